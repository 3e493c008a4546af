/*
 * cmd/send.c - `sluice send`: build one CloudEvent from flags (or take a
 * batch file), POST it, print the answer, like `kn event send`.
 *
 * The event is built with proto/event.h (id: a v4 UUID unless --id, time:
 * now), checked with sl_event_validate, encoded with proto/http.h in
 * binary mode (--structured: structured mode) and sent with the blocking
 * client of net/client.h. A --batch file is checked with proto/json.h and
 * sent as it is, in batched mode. Every failure before the answer is one
 * line on stderr and exit 1; the answer's status line goes to stdout, and a
 * status other than 2xx is exit 1 with the server's message on stderr. A
 * 2xx answer that carries a CloudEvent (a reply) is printed as `sluice
 * display` would print it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/display.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/utf8.h"
#include "core/uuid.h"
#include "net/client.h"
#include "proto/event.h"
#include "proto/http.h"
#include "proto/json.h"

/* Largest --data-file or --batch file read (the receiver has its own). */
#define SEND_MAX_FILE (64u << 20)
/* Largest answer read back (a reply event, an error message). */
#define SEND_MAX_RESP (16u << 20)
/* Characters of the server's message quoted in an error line. */
#define SEND_MAX_MSG  400

struct send_opts {
    const char *url;
    const char *type;
    const char *source;
    const char *id;
    const char *subject;
    const char *data;
    const char *data_file;
    const char *content_type;
    const char *batch;
    const char *specversion;
    const char **ext; /* "name=value" strings, borrowed from argv */
    size_t next;
    bool structured;
};

static int send_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "sluice send: <msg>" on stderr; returns 1 (the exit status). */
static int send_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("sluice send: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int send_usage(void)
{
    printf(
        "usage: sluice send URL --type T --source S [--id ID] [--subject S]\n"
        "                   [--data TEXT | --data-file FILE|-] "
        "[--content-type CT]\n"
        "                   [--ext NAME=VALUE]... [--structured] "
        "[--specversion 1.0|0.3]\n"
        "       sluice send URL --batch FILE\n"
        "\n"
        "Send one CloudEvent (binary mode unless --structured), or a JSON "
        "batch file in\n"
        "batched mode, and print the answer's status line and any reply "
        "event.\n"
        "The id defaults to a random UUID and the time to now; --ext values "
        "are strings.\n");
    return 0;
}

/* ---- options ---- */

/*
 * Parse argv into 'o' ('o->ext' is allocated; the caller frees it).
 * Returns 0, 1 after printing one line, or 2 for --help (printed).
 */
static int send_parse(struct send_opts *o, int argc, char **argv)
{
    /* The options that take one value, and where it goes. */
    const struct {
        const char *name;
        const char **slot;
    } flags[] = {
        { "--type", &o->type },
        { "--source", &o->source },
        { "--id", &o->id },
        { "--subject", &o->subject },
        { "--data", &o->data },
        { "--data-file", &o->data_file },
        { "--content-type", &o->content_type },
        { "--batch", &o->batch },
        { "--specversion", &o->specversion },
    };
    bool opts_done = false;
    int i;

    o->ext = sl_xcalloc((size_t)argc + 1, sizeof(*o->ext));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *v;
        size_t n, k;
        bool known = false;

        if (opts_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->url != NULL)
                return send_fail("unexpected argument '%s' (one URL only)", a);
            o->url = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return send_usage(), 2;
        if (strcmp(a, "--structured") == 0) {
            o->structured = true;
            continue;
        }
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        if (eq != NULL)
            v = eq + 1;
        else if (i + 1 < argc)
            v = argv[i + 1];
        else
            v = NULL;
        if (n == 5 && strncmp(a, "--ext", 5) == 0) {
            if (v == NULL)
                return send_fail("option '--ext' needs a value NAME=VALUE");
            o->ext[o->next++] = v;
            i += eq ? 0 : 1;
            continue;
        }
        for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
            if (strlen(flags[k].name) != n || strncmp(a, flags[k].name, n) != 0)
                continue;
            if (v == NULL)
                return send_fail("option '%s' needs a value", flags[k].name);
            if (*flags[k].slot != NULL)
                return send_fail("option '%s' given twice", flags[k].name);
            *flags[k].slot = v;
            i += eq ? 0 : 1;
            known = true;
            break;
        }
        if (!known)
            return send_fail("unknown option '%.*s' (try 'sluice send "
                             "--help')",
                             (int)n, a);
    }
    if (o->url == NULL)
        return send_fail("a URL is required: sluice send URL --type T "
                         "--source S");
    /* libcurl would speak other protocols too; events go over HTTP. */
    if (!sl_str_prefix_ci(o->url, "http://") &&
        !sl_str_prefix_ci(o->url, "https://"))
        return send_fail("invalid URL '%s': want http:// or https://", o->url);
    return 0;
}

/*
 * Read the whole file 'path' (stdin for "-") given with option 'flag' into
 * 'b'. Returns 0, or 1 after printing one line naming the file.
 */
static int send_slurp(const char *flag, const char *path, struct sl_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = 0, err = 0;

    if (f == NULL)
        return send_fail("cannot read %s '%s': %s", flag, path,
                         strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = sl_buf_append(b, chunk, n)) != 0)
            break;
    if (rc == 0 && ferror(f)) {
        err = errno;
        rc = SL_EIO;
    }
    if (f != stdin)
        fclose(f);
    if (rc == SL_ETOOBIG)
        return send_fail("cannot read %s '%s': larger than %u MiB", flag, path,
                         SEND_MAX_FILE >> 20);
    if (rc != 0)
        return send_fail("cannot read %s '%s': %s", flag, path,
                         err != 0 ? strerror(err) : sl_strerror(rc));
    return 0;
}

/* ---- building the event ---- */

/* One line for an attribute the event refused; 'flag' is where it came. */
static int send_attr_fail(const struct sl_diag *d, const char *flag)
{
    if (flag != NULL)
        return send_fail("invalid %s: attribute '%s' %s", flag, d->field,
                         d->msg);
    return send_fail("invalid attribute '%s': %s", d->field, d->msg);
}

/* Set attribute 'name' from flag 'flag' when the flag was given. */
static int send_set(struct sl_event *ev, const char *name, const char *flag,
                    const char *value)
{
    struct sl_diag d;

    if (value == NULL)
        return 0;
    sl_diag_clear(&d);
    if (sl_event_set_str(ev, name, value, &d) != 0)
        return send_attr_fail(&d, flag);
    return 0;
}

/*
 * The content type for data given without --content-type: JSON when the
 * data parses as JSON (what `kn event send` sends), else text when it is
 * UTF-8, else opaque bytes.
 */
static const char *send_guess_type(const struct sl_buf *data)
{
    if (data->len > 0 && sl_display_is_json(data->data, data->len))
        return "application/json";
    if (sl_utf8_valid(sl_buf_str(data), data->len, NULL))
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

/* Check --ext NAME=VALUE and set it on 'ev'. */
static int send_ext(struct sl_event *ev, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char name[64];
    size_t n;
    struct sl_diag d;

    if (eq == NULL)
        return send_fail("invalid --ext '%s': want NAME=VALUE", arg);
    n = (size_t)(eq - arg);
    if (n == 0)
        return send_fail("invalid --ext '%s': the name is empty", arg);
    if (n >= sizeof(name))
        return send_fail("invalid --ext name '%.*s...': longer than %zu "
                         "characters",
                         20, arg, sizeof(name) - 1);
    memcpy(name, arg, n);
    name[n] = '\0';
    if (!sl_ce_name_valid(name, ev->version) || strcmp(name, "data") == 0)
        return send_fail(
            "invalid --ext name '%s': extension names are "
            "lower-case letters and digits%s",
            name, ev->version == SL_CE_V03 ? ", starting with a letter" : "");
    if (sl_ce_core_type(name, ev->version) >= 0 ||
        strcmp(name, "data_base64") == 0)
        return send_fail("invalid --ext name '%s': a core attribute of "
                         "CloudEvents %s, not an extension",
                         name, sl_ce_version_str(ev->version));
    if (sl_event_get(ev, name) != NULL)
        return send_fail("invalid --ext name '%s': given twice", name);
    sl_diag_clear(&d);
    if (sl_event_set(ev, name, SL_CE_STRING, eq + 1, strlen(eq + 1), &d) != 0)
        return send_attr_fail(&d, "--ext");
    return 0;
}

/* Build and validate the event from the flags. '*out' on success. */
static int send_build(const struct send_opts *o, struct sl_event **out)
{
    enum sl_ce_version ver = SL_CE_V10;
    struct sl_event *ev = NULL;
    struct sl_diag d;
    struct sl_buf data;
    char uuid[SL_UUID_STR_LEN + 1];
    char now[SL_TIME_RFC3339_MAX];
    struct sl_timestamp ts;
    size_t i;
    int rc = 1;

    *out = NULL;
    sl_buf_init(&data, SEND_MAX_FILE);
    if (o->specversion != NULL &&
        sl_ce_version_parse(o->specversion, strlen(o->specversion), &ver) !=
            0) {
        send_fail("invalid --specversion '%s': want 1.0 or 0.3",
                  o->specversion);
        goto out;
    }
    if (o->data != NULL && o->data_file != NULL) {
        send_fail("--data and --data-file cannot be used together");
        goto out;
    }
    if (o->data_file != NULL) {
        if (send_slurp("--data-file", o->data_file, &data) != 0)
            goto out;
    } else if (o->data != NULL &&
               sl_buf_append(&data, o->data, strlen(o->data)) != 0) {
        send_fail("--data is larger than %u MiB", SEND_MAX_FILE >> 20);
        goto out;
    }
    if (o->id == NULL && sl_uuid_v4(uuid) != 0) {
        send_fail("cannot make an event id: no randomness from the kernel");
        goto out;
    }
    ev = sl_event_new(ver);
    ts = sl_time_now();
    sl_time_format_rfc3339(&ts, now, sizeof(now));
    /* The flags first, in the order a user reads them in the usage. */
    if (send_set(ev, "type", "--type", o->type) != 0 ||
        send_set(ev, "source", "--source", o->source) != 0 ||
        send_set(ev, "id", "--id", o->id ? o->id : uuid) != 0 ||
        send_set(ev, "subject", "--subject", o->subject) != 0 ||
        send_set(ev, "time", NULL, now) != 0)
        goto out;
    for (i = 0; i < o->next; i++)
        if (send_ext(ev, o->ext[i]) != 0)
            goto out;
    if (o->content_type != NULL) {
        if (send_set(ev, "datacontenttype", "--content-type",
                     o->content_type) != 0)
            goto out;
    } else if (o->data != NULL || o->data_file != NULL) {
        if (send_set(ev, "datacontenttype", NULL, send_guess_type(&data)) != 0)
            goto out;
    }
    if (o->data != NULL || o->data_file != NULL)
        sl_event_set_data(ev, data.data ? data.data : "", data.len);
    sl_diag_clear(&d);
    if (sl_event_validate(ev, &d) != 0) {
        rc = send_fail("%s (--%s)", d.msg, d.field);
        goto out;
    }
    *out = ev;
    ev = NULL;
    rc = 0;
out:
    sl_event_unref(ev);
    sl_buf_fini(&data);
    return rc;
}

/* ---- the answer ---- */

/* The reason phrase of the common statuses (the client keeps no line). */
static const char *send_reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } t[] = {
        { 200, "OK" },
        { 201, "Created" },
        { 202, "Accepted" },
        { 204, "No Content" },
        { 301, "Moved Permanently" },
        { 302, "Found" },
        { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" },
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 405, "Method Not Allowed" },
        { 408, "Request Timeout" },
        { 409, "Conflict" },
        { 413, "Content Too Large" },
        { 415, "Unsupported Media Type" },
        { 429, "Too Many Requests" },
        { 500, "Internal Server Error" },
        { 501, "Not Implemented" },
        { 502, "Bad Gateway" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].status == status)
            return t[i].text;
    return NULL;
}

/*
 * The server's message for an error line: the body as one line (line
 * breaks and tabs become spaces, runs of them one space, other control
 * bytes dropped), cut to SEND_MAX_MSG characters. Written into 'out'.
 */
static void send_message(const struct sl_http_client_resp *resp, char *out,
                         size_t outlen)
{
    const char *p = sl_buf_str(&resp->body);
    size_t i, o = 0;
    bool space = false;

    for (i = 0; i < resp->body.len && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = o > 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)c;
    }
    if (i < resp->body.len && o + 4 >= outlen) {
        /* Do not cut a UTF-8 sequence in two. */
        while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
            o--;
        if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
            o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* True when the answer claims to carry an event (headers alone tell). */
static bool send_has_event(const struct sl_http_client_resp *resp)
{
    const char *ct = sl_http_client_resp_header(resp, "content-type");

    if (sl_http_client_resp_header(resp, "ce-specversion") != NULL)
        return true;
    return ct != NULL && sl_str_prefix_ci(ct, "application/cloudevents");
}

/*
 * Print the reply event(s) a 2xx answer carries. An answer that claims to
 * carry one but does not decode gets a warning line; the send itself
 * succeeded, so the exit status stays 0.
 */
static void send_print_reply(const struct sl_http_client_resp *resp)
{
    struct sl_http_header *hv;
    struct sl_event_list evs;
    struct sl_http_msg msg;
    struct sl_ce_opts opts = { .max_event_size = SEND_MAX_RESP };
    struct sl_diag d;
    struct sl_buf out;
    size_t i;

    if (!send_has_event(resp))
        return;
    hv = sl_xcalloc(resp->headers.n + 1, sizeof(*hv));
    for (i = 0; i < resp->headers.n; i++) {
        hv[i].name = resp->headers.v[i].name;
        hv[i].value = resp->headers.v[i].value;
    }
    msg.headers = hv;
    msg.nheaders = resp->headers.n;
    msg.body = sl_buf_str(&resp->body);
    msg.body_len = resp->body.len;
    sl_event_list_init(&evs);
    sl_diag_clear(&d);
    if (sl_ce_http_decode(&msg, &opts, &evs, NULL, &d) != 0) {
        char text[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        fprintf(stderr,
                "sluice send: warning: the reply is not a valid "
                "CloudEvent: %s\n",
                sl_diag_format(&d, text, sizeof(text)));
    }
    sl_buf_init(&out, SL_BUF_UNLIMITED);
    for (i = 0; i < evs.n; i++) {
        sl_buf_reset(&out);
        sl_display_format(evs.v[i], &out);
        fwrite(sl_buf_str(&out), 1, out.len, stdout);
    }
    fflush(stdout);
    sl_buf_fini(&out);
    sl_event_list_fini(&evs);
    sl_free(hv);
}

/* POST the encoded message and report the answer. Returns the exit status. */
static int send_post(const char *url, const struct sl_http_headers *hdrs,
                     const struct sl_buf *body)
{
    struct sl_http_client_req rq;
    struct sl_http_client_resp resp;
    struct sl_http_header *hv;
    struct sl_diag d;
    const char *reason;
    size_t i;
    int rc;

    hv = sl_xcalloc(hdrs->n + 1, sizeof(*hv));
    for (i = 0; i < hdrs->n; i++) {
        hv[i].name = hdrs->v[i].name;
        hv[i].value = hdrs->v[i].value;
    }
    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.url = url;
    rq.headers = hv;
    rq.nheaders = hdrs->n;
    rq.body = body->data ? body->data : "";
    rq.body_len = body->len;
    rq.max_body = SEND_MAX_RESP;
    sl_diag_clear(&d);
    rc = sl_http_client_do(&rq, &resp, &d);
    sl_free(hv);
    if (rc != 0) {
        sl_http_client_resp_fini(&resp);
        return send_fail("%s", d.msg[0] ? d.msg : sl_strerror(rc));
    }
    reason = send_reason(resp.status);
    printf("%d%s%s\n", resp.status, reason ? " " : "", reason ? reason : "");
    fflush(stdout);
    if (resp.status >= 200 && resp.status < 300) {
        send_print_reply(&resp);
        rc = 0;
    } else {
        char msg[SEND_MAX_MSG];

        send_message(&resp, msg, sizeof(msg));
        rc = send_fail("'%s' answered %d%s%s%s%s", url, resp.status,
                       reason ? " " : "", reason ? reason : "",
                       msg[0] ? ": " : "", msg);
    }
    sl_http_client_resp_fini(&resp);
    return rc;
}

/* ---- the command ---- */

/* --batch FILE: check it is a valid JSON batch, then send it unchanged. */
static int send_batch(const struct send_opts *o)
{
    static const char *const single[] = {
        "--type",       "--source",      "--id",           "--subject",
        "--data",       "--data-file",   "--content-type", "--ext",
        "--structured", "--specversion",
    };
    const bool given[] = {
        o->type != NULL,         o->source != NULL, o->id != NULL,
        o->subject != NULL,      o->data != NULL,   o->data_file != NULL,
        o->content_type != NULL, o->next > 0,       o->structured,
        o->specversion != NULL,
    };
    struct sl_ce_opts opts = { .max_event_size = SEND_MAX_FILE };
    struct sl_http_headers hdrs;
    struct sl_event_list evs;
    struct sl_diag d;
    struct sl_buf b;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(given) / sizeof(given[0]); i++)
        if (given[i])
            return send_fail("--batch cannot be combined with %s (the file "
                             "holds whole events)",
                             single[i]);
    sl_buf_init(&b, SEND_MAX_FILE);
    if (send_slurp("--batch", o->batch, &b) != 0) {
        sl_buf_fini(&b);
        return 1;
    }
    sl_event_list_init(&evs);
    sl_diag_clear(&d);
    if (sl_ce_json_decode_batch(b.data ? b.data : "", b.len, &opts, &evs, &d) !=
        0) {
        char text[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        sl_event_list_fini(&evs);
        sl_buf_fini(&b);
        return send_fail("invalid batch '%s': %s", o->batch,
                         sl_diag_format(&d, text, sizeof(text)));
    }
    sl_event_list_fini(&evs);
    sl_http_headers_init(&hdrs);
    sl_http_headers_add(&hdrs, "Content-Type",
                        "application/cloudevents-batch+json; charset=UTF-8");
    rc = send_post(o->url, &hdrs, &b);
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&b);
    return rc;
}

int sl_cmd_send(int argc, char **argv)
{
    struct send_opts o;
    struct sl_http_headers hdrs;
    struct sl_event *ev = NULL;
    struct sl_buf body;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = send_parse(&o, argc, argv);
    if (rc != 0) {
        sl_free(o.ext);
        return rc == 2 ? 0 : 1;
    }
    if (o.batch != NULL) {
        rc = send_batch(&o);
        sl_free(o.ext);
        return rc;
    }
    rc = send_build(&o, &ev);
    sl_free(o.ext);
    if (rc != 0)
        return rc;
    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    if (sl_ce_http_encode(
            ev, o.structured ? SL_CE_STRUCTURED_MODE : SL_CE_BINARY_MODE, &hdrs,
            &body) != 0)
        rc = send_fail("cannot encode the event");
    else
        rc = send_post(o.url, &hdrs, &body);
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);
    sl_event_unref(ev);
    return rc;
}
