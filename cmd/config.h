/*
 * cmd/config.h - the daemon's settings: one table, four sources.
 *
 * Every setting of `sluice serve` is one row of the table in cmd/config.c
 * (name, type, field, default, limits, help; like Redis static_configs[]).
 * A setting named "data-dir" is the flag --data-dir, the environment
 * variable SLUICE_DATA_DIR and the key data-dir of the configuration file;
 * one code path reads all of them, in this order, later sources winning:
 *
 *     defaults < config file (--config) < environment < flags
 *
 * A list setting (-f) is replaced as a whole by a later source; repeated
 * flags append to it. Every other repeated flag: the last one wins.
 *
 * Failures are one line in diag->msg, naming the setting as the user wrote
 * it and the bad value ("invalid --api-addr 'foo': expected host:port");
 * diag->field holds the setting's name. The caller prints
 * "sluice: <msg>" and exits 1. docs/config.md lists the settings and the
 * rules; keep it in step with the table.
 *
 * Single-threaded: called from main before anything else runs.
 */
#ifndef SL_CMD_CONFIG_H
#define SL_CMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

struct sl_diag;

/* Where a setting's value came from. */
enum sl_config_src {
    SL_CONFIG_DEFAULT = 0,
    SL_CONFIG_FILE = 1,
    SL_CONFIG_ENV = 2,
    SL_CONFIG_FLAG = 3,
};

/* A list of owned strings, in the order given. */
struct sl_config_list {
    char **v;
    size_t n;
};

/* The broker log used for brokers without a class annotation. */
enum sl_config_backend {
    SL_CONFIG_BACKEND_EMBEDDED = 0,
    SL_CONFIG_BACKEND_REDIS = 1,
    SL_CONFIG_BACKEND_KAFKA = 2,
};

/* Upper bound on the table's length (it sizes 'src' below). */
#define SL_CONFIG_MAX_SETTINGS 32

/*
 * The effective configuration. Strings are owned (sl_config_fini frees
 * them); an optional setting that is not set is NULL. Addresses are
 * "host:port" as given (IPv6 in brackets), already checked for syntax.
 */
struct sl_config {
    bool help;         /* -h/--help: print sl_config_help, exit 0 */
    bool check_config; /* --check-config: check, print, exit */
    char *config;      /* --config FILE, or NULL */

    char *data_dir;                         /* ./sluice-data */
    char *api_addr;                         /* 127.0.0.1:8001 */
    char *api_token_file;                   /* NULL: no token (loopback only) */
    int64_t api_max_body;                   /* bytes, 3 MiB */
    char *ingress_addr;                     /* 127.0.0.1:8080 */
    char *ingress_url;                      /* http(s)://..., no trailing '/' */
    int64_t max_event_size;                 /* bytes, 1 MiB */
    char *serving_addr;                     /* 127.0.0.1:8081 */
    char *metrics_addr;                     /* 127.0.0.1:9092 */
    int64_t max_connections;                /* per listener, 1024 */
    int64_t shutdown_timeout_ns;            /* PT30S */
    int64_t broker_retention_ns;            /* P7D; 0 = no age limit */
    int64_t broker_retention_bytes;         /* 0 = no size limit */
    int64_t watch_history;                  /* store history entries, 5000 */
    enum sl_log_level log_level;            /* info */
    enum sl_config_backend default_backend; /* embedded */
    char *redis_url;                        /* redis://..., or NULL */
    char *kafka_bootstrap;       /* host:port[,host:port...], or NULL */
    struct sl_config_list files; /* -f/--filename, applied at start */

    /* Where each setting came from, by table row (enum sl_config_src). */
    unsigned char src[SL_CONFIG_MAX_SETTINGS];
};

/*
 * Fill 'cfg' from the defaults, the configuration file, 'envp' (a
 * NULL-terminated "NAME=value" array such as environ; NULL means an empty
 * environment) and the flags argv[1..argc) (argv[0], the subcommand's
 * name, is skipped). Serve takes no positional arguments.
 *
 * With -h/--help among the flags, only the flags' syntax is read: 'help'
 * is set and nothing else is loaded. The configuration file is named by
 * --config, else by SLUICE_CONFIG; relative paths inside it are relative
 * to the file's directory.
 *
 * Checks each value's syntax and limits; sl_config_check does the rules
 * that involve several settings or the file system.
 *
 * 'cfg' is always initialised, also on failure: call sl_config_fini.
 * Returns 0, or SL_EINVAL with the message in 'diag'.
 */
int sl_config_load(struct sl_config *cfg, int argc, char *const *argv,
                   char *const *envp, struct sl_diag *diag);

/*
 * Where setting 'name' ("api-addr") got its value: an enum sl_config_src,
 * or SL_ENOENT for a name not in the table.
 */
int sl_config_source(const struct sl_config *cfg, const char *name);

/* Free everything 'cfg' owns; it may be loaded again afterwards. */
void sl_config_fini(struct sl_config *cfg);

/*
 * The checks `serve` runs before it starts and `serve --check-config`
 * runs and reports (docs/config.md, "Checks"): no non-loopback API without
 * a token file; the token file is a regular file, not writable by group
 * or others, not readable by others, and holds one token of visible ASCII
 * (at most 4096 bytes); data-dir is, or can be created as, a writable
 * directory; the redis backend needs redis-url and the kafka one
 * kafka-bootstrap; no two listeners share an address; every -f path
 * exists. Reads the token file but keeps nothing of it.
 *
 * Returns 0, or SL_EINVAL with one line in 'diag'.
 */
int sl_config_check(const struct sl_config *cfg, struct sl_diag *diag);

/*
 * Write the effective configuration to 'f' as YAML, one setting per
 * line, each with a comment naming its source ("# --api-addr",
 * "# SLUICE_LOG_LEVEL", "# sluice.yaml", "# default"). Paths are shown,
 * file contents never; a password in redis-url is masked.
 * Returns 0, or a negative SL_E* code when a value cannot be written.
 */
int sl_config_dump(const struct sl_config *cfg, FILE *f);

/* Write the usage of `sluice serve`: every flag, its variable, default. */
void sl_config_help(FILE *f);

#endif
