/*
 * roles.c — the roles of SPEC §1 (keys, bits, Japanese labels) and the labels of categories and notice statuses, in one table
 * each so that the Japanese wording is reviewed in one place.
 */
#include <string.h>

#include "domain/roles.h"

static const struct {
    const char *key;
    const char *label;
    unsigned bit;
} ROLES[] = {
    {"mhlw", "厚労省 難病対策課", ROLE_MHLW},
    {"operator", "運用事業者", ROLE_OPERATOR},
    {"muni_admin", "自治体管理者", ROLE_MUNI_ADMIN},
    {"muni_staff", "自治体職員", ROLE_MUNI_STAFF},
    {"inst_manager", "医療機関の責任者", ROLE_INST_MANAGER},
    {"doctor", "指定医", ROLE_DOCTOR},
};

static const struct {
    const char *key;
    const char *label;
} CATEGORIES[] = {{"nanbyo", "難病"}, {"shoman", "小慢"}, {"both", "難病・小慢"}},
  NOTICE_STATUSES[] = {{"unissued", "未発行"},
                       {"issued", "発行済（初期パスワード）"},
                       {"active", "利用中"}};

unsigned role_bit(const char *role_key)
{
    for (size_t i = 0; role_key && i < sizeof ROLES / sizeof ROLES[0]; i++)
        if (strcmp(ROLES[i].key, role_key) == 0)
            return ROLES[i].bit;
    return 0;
}

const char *role_label(const char *role_key)
{
    for (size_t i = 0; role_key && i < sizeof ROLES / sizeof ROLES[0]; i++)
        if (strcmp(ROLES[i].key, role_key) == 0)
            return ROLES[i].label;
    return NULL;
}

bool role_key_valid(const char *role_key)
{
    return role_bit(role_key) != 0;
}

const char *category_label(const char *category_key)
{
    for (size_t i = 0; category_key && i < sizeof CATEGORIES / sizeof CATEGORIES[0]; i++)
        if (strcmp(CATEGORIES[i].key, category_key) == 0)
            return CATEGORIES[i].label;
    return "";
}

const char *notice_status_label(const char *status_key)
{
    for (size_t i = 0; status_key && i < sizeof NOTICE_STATUSES / sizeof NOTICE_STATUSES[0]; i++)
        if (strcmp(NOTICE_STATUSES[i].key, status_key) == 0)
            return NOTICE_STATUSES[i].label;
    return "";
}
