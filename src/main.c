/*
 * main.c — the process around the command line `nsdb VERB [options]`: finds the verb in the
 * verb table (src/cli/cli.c), sets up what the whole process shares (fontconfig for the verbs
 * that draw PDFs, libcurl, the umask) and runs it. Exit status: 0 success, 1 user error
 * (message on stderr), 2 usage.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "domain/smtp.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_PAUSE() __lsan_disable()
#define LSAN_RESUME() __lsan_enable()
#else
#define LSAN_PAUSE() ((void)0)
#define LSAN_RESUME() ((void)0)
#endif

/* Loads fontconfig's configuration once before any PDF is drawn: the first request does not pay
   for it, and the few hundred bytes fontconfig keeps for the life of the process (inside the
   library) do not show up as a leak in the sanitizer build. Looked up at run time because nsdb
   links fontconfig only through Pango. */
static void fonts_preload(void)
{
    int (*fc_init)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "FcInit");
    LSAN_PAUSE();
    if (fc_init != NULL)
        fc_init();
    LSAN_RESUME();
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        cli_usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    int words = 0;
    const verb *v = cli_verb_find(argc, argv, &words);
    if (v == NULL) {
        fprintf(stderr, "nsdb: 不明なコマンドです: %s\n\n", argv[1]);
        cli_usage_all(stderr);
        return EXIT_USAGE;
    }
    current_verb = v;
    if (v->draws_pdf)
        fonts_preload();
    smtp_global_init();
    atexit(smtp_global_cleanup);
    umask(077); /* the database, key and mail hold secrets: owner only */
    app_config cfg;
    app_config_defaults(&cfg);
    /* getopt sees the verb's words as argv[0]… */
    return v->run(argc - words, argv + words, &cfg);
}
