/*
 * csv_out.c — see csv_out.h.
 */
#include "domain/csv_out.h"

#include <string.h>

void csv_out_cell(strbuf *out, const char *value)
{
    if (value == NULL)
        return;
    bool formula = strchr("=+-@\t\r", value[0]) != NULL && value[0] != '\0';
    bool quote = formula || strpbrk(value, ",\"\r\n") != NULL;
    if (quote)
        strbuf_putc(out, '"');
    if (formula)
        strbuf_putc(out, '\'');
    for (const char *p = value; *p; p++) {
        if (*p == '"')
            strbuf_putc(out, '"');
        strbuf_putc(out, *p);
    }
    if (quote)
        strbuf_putc(out, '"');
}

void csv_out_row(strbuf *out, const char *const *cells, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            strbuf_putc(out, ',');
        csv_out_cell(out, cells[i]);
    }
    strbuf_puts(out, "\r\n");
}
