/*
 * cmd/config_int.h - what cmd/config.c and cmd/config_check.c share: the
 * settings table and its helpers. Not for use outside cmd/config*.c.
 */
#ifndef SL_CMD_CONFIG_INT_H
#define SL_CMD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/config.h"

struct sl_buf;

/* How a value is written and where it is stored (field type in brackets). */
enum sl__cfg_type {
    SL__CFG_BOOL,     /* true/false/1/0, bare flag means true [bool] */
    SL__CFG_STRING,   /* non-empty text [char *] */
    SL__CFG_PATH,     /* a path; relative to the config file there [char *] */
    SL__CFG_ADDR,     /* host:port to listen on, port 0-65535 [char *] */
    SL__CFG_ADDRS,    /* host:port[,host:port...] [char *] */
    SL__CFG_URL,      /* absolute URL, scheme from 'choices' [char *] */
    SL__CFG_INT,      /* decimal in [min, max] [int64_t] */
    SL__CFG_SIZE,     /* bytes with a unit (3MiB) in [min, max] [int64_t] */
    SL__CFG_DURATION, /* ISO-8601, nanoseconds in [min, max] [int64_t] */
    SL__CFG_LOGLEVEL, /* sl_log_level_parse [enum sl_log_level] */
    SL__CFG_ENUM,     /* one of 'choices', stored as its index [enum] */
    SL__CFG_LIST,     /* paths, repeatable [struct sl_config_list] */
};

/* Sources a setting may come from; 'only' 0 means all of them. */
#define SL__CFG_IN_FLAG 0x1u
#define SL__CFG_IN_ENV  0x2u
#define SL__CFG_IN_FILE 0x4u

#define SL__CFG_KIB ((int64_t)1024)
#define SL__CFG_MIB (1024 * SL__CFG_KIB)
#define SL__CFG_GIB (1024 * SL__CFG_MIB)
#define SL__CFG_SEC ((int64_t)1000000000)

/* Largest configuration file read. */
#define SL__CFG_FILE_MAX (1024 * 1024)

struct sl__cfg_opt {
    const char *name; /* flag --name, env SLUICE_NAME, file key name */
    char shortopt;    /* 'f' for -f, or 0 */
    enum sl__cfg_type type;
    unsigned only;    /* SL__CFG_IN_* it is limited to, 0: everywhere */
    size_t off;       /* offsetof(struct sl_config, field) */
    const char *def;  /* default as text, NULL: unset (optional setting) */
    int64_t min, max; /* INT, SIZE (bytes), DURATION (ns) */
    const char *const *choices; /* ENUM values; URL schemes (NULL-ended) */
    const char *metavar;        /* "HOST:PORT" in the help */
    const char *help;           /* one line */
};

extern const struct sl__cfg_opt sl__cfg_table[];
extern const size_t sl__cfg_count;

static inline bool sl__cfg_in(const struct sl__cfg_opt *o, unsigned src)
{
    return o->only == 0 || (o->only & src) != 0;
}

/* The row named name[0..n), or NULL. */
const struct sl__cfg_opt *sl__cfg_find(const char *name, size_t n);

/* "SLUICE_DATA_DIR" for "data-dir" into out[cap]. */
void sl__cfg_env_name(const struct sl__cfg_opt *o, char *out, size_t cap);

/* 's' for a message: control characters as '?', cut at ~cap-4 bytes. */
const char *sl__cfg_show(const char *s, char *out, size_t cap);

/* The field of 'o' inside 'cfg'. */
void *sl__cfg_field(const struct sl_config *cfg, const struct sl__cfg_opt *o);

/* A size as "3MiB" when a whole number of KiB/MiB/GiB, else bytes. */
void sl__cfg_fmt_size(int64_t v, char *out, size_t cap);

/*
 * Check s[0..n) as host[:port] (host:port when 'need_port'). Returns NULL
 * and the host's length and port (-1 when absent), or why not.
 */
const char *sl__cfg_hostport(const char *s, size_t n, bool need_port,
                             size_t *host_len, long *port);

/*
 * Value syntax (cmd/config_value.c). Each returns NULL on success or a
 * short phrase saying why not; 'why' is room for a formatted phrase.
 */
/* "a, b or c" from a NULL-ended list, each item followed by 'suffix'. */
const char *sl__cfg_choices(const char *const *choices, const char *suffix,
                            char *out, size_t cap);
/* A URL with a scheme from o->choices, no query, no fragment. */
const char *sl__cfg_check_url(const struct sl__cfg_opt *o, const char *s,
                              char *why, size_t cap);
/* The length of URL 's' to store (trailing slashes of an http path cut). */
size_t sl__cfg_url_len(const char *s);
const char *sl__cfg_parse_size(const struct sl__cfg_opt *o, const char *s,
                               int64_t *out, char *why, size_t cap);
const char *sl__cfg_parse_duration(const struct sl__cfg_opt *o, const char *s,
                                   int64_t *out, char *why, size_t cap);
const char *sl__cfg_parse_bool(const char *s, bool *out);

/*
 * Read file 'path' into 'b' (initialised here with limit 'max'; the caller
 * finis it whatever happens). Returns 0, SL_ETOOBIG, or SL_EIO with the
 * errno in '*perr'.
 */
int sl__cfg_read_file(const char *path, size_t max, struct sl_buf *b,
                      int *perr);

#endif
