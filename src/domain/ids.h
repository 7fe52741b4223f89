/*
 * ids.h — the identifiers of SPEC §3: generated user IDs and initial passwords (both drawn from
 * an alphabet without look-alike characters), and the check digits of the externally assigned
 * municipality (地方公共団体コード) and medical-institution (医療機関コード) codes. Pure functions:
 * no storage, no HTTP; the random ones use libsodium's CSPRNG.
 */
#ifndef NSDB_IDS_H
#define NSDB_IDS_H

#include <stdbool.h>

/* 31 symbols: digits 2–9 and upper-case letters without I, L, O. A symbol's value is its index. */
#define IDS_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#define IDS_ALPHABET_SIZE 31
#define IDS_USER_ID_LEN 12
#define IDS_INITIAL_PASSWORD_LEN 12
#define IDS_MUNICIPALITY_CODE_LEN 6
#define IDS_INSTITUTION_CODE_LEN 10

/* Writes a fresh user ID: 11 random symbols and a check symbol, NUL-terminated. */
void ids_user_id_generate(char out[IDS_USER_ID_LEN + 1]);
/* True when s is 12 alphabet symbols (either case) whose check symbol is right. */
bool ids_user_id_valid(const char *s);
/* Upper-cases s in place (ASCII only): user IDs are case-insensitive at login. */
void ids_user_id_normalize(char *s);
/* The check symbol for the first 11 symbols of a user ID (upper case); '\0' when one is invalid. */
char ids_user_id_check_char(const char *first11);

/* Writes 12 uniformly random alphabet symbols, NUL-terminated. */
void ids_initial_password_generate(char out[IDS_INITIAL_PASSWORD_LEN + 1]);

/* True when s is 6 ASCII digits ending with the mod-11 check digit of the first five. */
bool ids_municipality_code_valid(const char *s);
/* Check digit ('0'–'9') for five ASCII digits; '\0' when first5 is not five digits. */
char ids_municipality_check_digit(const char *first5);

/* True when s is 10 ASCII digits whose last digit is the Luhn check digit of the first nine. */
bool ids_institution_code_valid(const char *s);
/* Luhn check digit ('0'–'9') for nine ASCII digits; '\0' when first9 is not nine digits. */
char ids_luhn_check_digit(const char *first9);

#endif
