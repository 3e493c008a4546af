/*
 * cmd/main.c - the sluice binary: daemon and CLI in one.
 *
 * Subcommands are a table; each later issue adds its own (serve, apply,
 * get, send, ...). Unknown commands and bad flags exit 1 with one line.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "core/version.h"
#include "triggers/cesql.h"

struct cmd {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cmd commands[] = {
    { "serve", "run the daemon (sluice serve --help)", sl_cmd_serve },
    { "apply", "create or update resources from -f FILE|DIR|-", sl_cmd_apply },
    { "get", "list resources: get KIND [NAME...] [-o yaml|json|wide|name]",
      sl_cmd_get },
    { "describe", "show resources in detail: describe KIND [NAME...]",
      sl_cmd_describe },
    { "delete", "delete resources: delete KIND NAME... | -f FILE",
      sl_cmd_delete },
    { "send", "send a CloudEvent: send URL --type T --source S", sl_cmd_send },
    { "display", "print the CloudEvents sent to it", sl_cmd_display },
    { "explain",
      "why a trigger does (not) fire: explain trigger NAME --event F",
      sl_cmd_explain },
    { "version", "print the version and exit", cmd_version },
    { "help", "show this help", cmd_help },
};

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "sluice version: unexpected argument '%s'\n", argv[1]);
        return 1;
    }
    printf("sluice %s\n", SL_VERSION);
    return 0;
}

/* Until the daemon lands: read and check the configuration, nothing more. */

static int cmd_help(int argc, char **argv)
{
    size_t i;

    (void)argc;
    (void)argv;
    printf("usage: sluice <command> [options]\n\ncommands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;

    sl_cesql_install(); /* admission rejects CESQL that does not compile */
    if (argc < 2)
        return cmd_help(argc, argv), 1;
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s' (try 'sluice help')\n",
            argv[1]);
    return 1;
}
