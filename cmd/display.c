/*
 * cmd/display.c - `sluice display`: a sink that prints every CloudEvent it
 * receives, like Knative's event_display, and the event_display rendering
 * shared with `sluice send`.
 *
 * One HTTP server (net/server.h) on one loop (core/loop.h), no threads of
 * its own. Each request is decoded with proto/http.h (binary, structured or
 * batched mode); its events are printed and stdout flushed before the 202
 * goes out, so a sender that saw 202 can read the event in the output.
 * Not an event: 400 (413 too big, 415 another format) with the decoder's
 * message, which names the attribute or header at fault. SIGTERM/SIGINT
 * stop the loop; everything is freed before the process exits.
 */
#include "cmd/display.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd/commands.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/utf8.h"
#include "net/server.h"
#include "proto/event.h"
#include "proto/http.h"

#define DISPLAY_DEFAULT_ADDR "127.0.0.1:8080"
#define DISPLAY_JSON_DEPTH   128
/* Room for the rendering of one event: 1 MiB of data, Base64 or indented
 * JSON, plus its attributes. */
#define DISPLAY_MAX_OUT      (8u << 20)

/* ---- the rendering ---- */

bool sl_display_is_json(const char *p, size_t n)
{
    struct json_tokener *tok;
    struct json_object *obj;
    enum json_tokener_error jerr;
    size_t end;
    bool ok = false;

    if (n > (size_t)INT32_MAX)
        return false;
    tok = json_tokener_new_ex(DISPLAY_JSON_DEPTH);
    if (tok == NULL)
        return false;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, p, (int)n);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* A bare number is only complete at the end of the input. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = n;
    }
    if (jerr == json_tokener_success) {
        ok = true;
        for (; end < n; end++)
            if (p[end] != ' ' && p[end] != '\t' && p[end] != '\r' &&
                p[end] != '\n')
                ok = false;
    }
    json_object_put(obj);
    json_tokener_free(tok);
    return ok;
}

/* A line break and the indentation of nesting level 'depth'. */
static int display_json_newline(struct sl_buf *out, int depth)
{
    int rc = sl_buf_appends(out, "\n  ");

    while (rc == 0 && depth-- > 0)
        rc = sl_buf_appends(out, "  ");
    return rc;
}

/*
 * Re-indent valid JSON text as Go's json.Indent(dst, src, "  ", "  ")
 * does: one member or element per line, two spaces per level after a
 * two-space prefix, ": " after keys, empty objects and arrays kept as {}
 * and [], key order and number spelling untouched.
 */
static int display_json_indent(const char *p, size_t n, struct sl_buf *out)
{
    bool in_str = false, esc = false, opened = false;
    int depth = 0, rc = 0;
    size_t i;

    for (i = 0; i < n && rc == 0; i++) {
        char c = p[i];

        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            rc = sl_buf_appendc(out, c);
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (opened) {
            /* The first token after '{' or '[': a closing bracket keeps
             * the pair on one line; anything else starts a new line. */
            opened = false;
            if (c == '}' || c == ']') {
                depth--;
                rc = sl_buf_appendc(out, c);
                continue;
            }
            rc = display_json_newline(out, depth);
            if (rc != 0)
                break;
        }
        switch (c) {
        case '"':
            in_str = true;
            rc = sl_buf_appendc(out, c);
            break;
        case '{':
        case '[':
            depth++;
            opened = true;
            rc = sl_buf_appendc(out, c);
            break;
        case '}':
        case ']':
            depth--;
            rc = display_json_newline(out, depth);
            if (rc == 0)
                rc = sl_buf_appendc(out, c);
            break;
        case ',':
            rc = sl_buf_appendc(out, c);
            if (rc == 0)
                rc = display_json_newline(out, depth);
            break;
        case ':':
            rc = sl_buf_appends(out, ": ");
            break;
        default:
            rc = sl_buf_appendc(out, c);
            break;
        }
    }
    return rc;
}

/*
 * The Data section. JSON (a JSON content type, or none, with data that
 * parses) is indented; other text is written as it is; bytes that are not
 * UTF-8 go out as Base64 under "Data (binary),".
 */
static int display_data(const struct sl_event *ev, struct sl_buf *out)
{
    const char *ct = sl_event_value(ev, "datacontenttype");
    const char *p = (const char *)ev->data;
    size_t n = ev->data_len;
    int rc;

    if (n > 0 && (ct == NULL || sl_ce_is_json_type(ct)) &&
        sl_display_is_json(p, n)) {
        rc = sl_buf_appends(out, "Data,\n  ");
        if (rc == 0)
            rc = display_json_indent(p, n, out);
    } else if (n == 0 || sl_utf8_valid(p, n, NULL)) {
        rc = sl_buf_appends(out, "Data,\n  ");
        if (rc == 0 && n > 0)
            rc = sl_buf_append(out, p, n);
    } else {
        rc = sl_buf_appends(out, "Data (binary),\n  ");
        if (rc == 0)
            rc = sl_base64_encode(p, n, out);
    }
    return rc == 0 ? sl_buf_appendc(out, '\n') : rc;
}

static bool display_is_core(const char *name, enum sl_ce_version v)
{
    return sl_ce_core_type(name, v) >= 0;
}

int sl_display_format(const struct sl_event *ev, struct sl_buf *out)
{
    /* The Go SDK's order, not the alphabet; each version has its own. */
    static const char *const v10[] = { "specversion", "type",
                                       "source",      "subject",
                                       "id",          "time",
                                       "dataschema",  "datacontenttype" };
    static const char *const v03[] = {
        "specversion",
        "type",
        "source",
        "subject",
        "id",
        "time",
        "schemaurl",
        "datacontenttype",
        "datacontentencoding",
    };
    const char *const *order = ev->version == SL_CE_V03 ? v03 : v10;
    size_t norder = ev->version == SL_CE_V03 ? sizeof(v03) / sizeof(v03[0])
                                             : sizeof(v10) / sizeof(v10[0]);
    bool ext = false;
    size_t i;
    int rc;

    rc = sl_buf_appends(out, "\xe2\x98\x81\xef\xb8\x8f  cloudevents.Event\n"
                             "Context Attributes,\n");
    for (i = 0; i < norder && rc == 0; i++) {
        const char *v = strcmp(order[i], "specversion") == 0
                            ? sl_ce_version_str(ev->version)
                            : sl_event_value(ev, order[i]);
        if (v != NULL)
            rc = sl_buf_appendf(out, "  %s: %s\n", order[i], v);
    }
    /* Attributes are sorted by name, so extensions come out sorted. */
    for (i = 0; i < ev->nattrs && rc == 0; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];

        if (display_is_core(a->name, ev->version))
            continue;
        if (!ext) {
            rc = sl_buf_appends(out, "Extensions,\n");
            ext = true;
        }
        if (rc == 0)
            rc = sl_buf_appendf(out, "  %s: %s\n", a->name, a->value);
    }
    if (rc == 0 && ev->has_data)
        rc = display_data(ev, out);
    return rc;
}

/* ---- the sink ---- */

struct display {
    struct sl_loop *loop;
    struct sl_http_server *srv;
    struct sl_buf out; /* one event's rendering, reused */
    bool quiet;
    uint64_t count; /* events received */
};

static void display_on_signal(void *arg, int signo)
{
    struct display *d = arg;

    (void)signo;
    sl_loop_stop(d->loop);
}

/* Print one event and flush, so each is visible as soon as it arrives. */
static void display_print(struct display *d, const struct sl_event *ev)
{
    sl_buf_reset(&d->out);
    if (sl_display_format(ev, &d->out) != 0)
        sl_buf_appends(&d->out, "\n(event too large to display)\n");
    fwrite(sl_buf_str(&d->out), 1, d->out.len, stdout);
    fflush(stdout);
}

/* The status for a decoding failure (proto/http.h's contract). */
static unsigned display_status(int rc)
{
    switch (rc) {
    case SL_ETOOBIG:
        return 413;
    case SL_ENOTSUP:
        return 415;
    default:
        return 400;
    }
}

/* Every request, on the loop thread: decode, print, answer. */
static void display_handle(void *arg, struct sl_http_req *req)
{
    struct display *d = arg;
    struct sl_event_list events;
    struct sl_http_msg msg;
    struct sl_diag diag;
    size_t i;
    int rc;

    if (strcmp(sl_http_req_method(req), "POST") != 0) {
        static const char body[] = "method not allowed: send events with "
                                   "POST\n";
        sl_http_resp_header(req, "Allow", "POST");
        sl_http_respond(req, 405, "text/plain; charset=utf-8", body,
                        sizeof(body) - 1);
        return;
    }
    memset(&msg, 0, sizeof(msg));
    msg.headers = sl_http_req_headers(req, &msg.nheaders);
    msg.body = sl_http_req_body(req, &msg.body_len);
    sl_event_list_init(&events);
    sl_diag_clear(&diag);
    rc = sl_ce_http_decode(&msg, NULL, &events, NULL, &diag);
    if (rc != 0) {
        char text[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];
        size_t n;

        sl_diag_format(&diag, text, sizeof(text) - 1);
        if (!d->quiet)
            fprintf(stderr, "sluice display: rejected a request from %s: %s\n",
                    sl_http_req_peer(req), text);
        n = strlen(text);
        text[n++] = '\n';
        sl_http_respond(req, display_status(rc), "text/plain; charset=utf-8",
                        text, n);
        sl_event_list_fini(&events);
        return;
    }
    for (i = 0; i < events.n; i++) {
        if (!d->quiet)
            display_print(d, events.v[i]);
        d->count++;
    }
    sl_event_list_fini(&events);
    sl_http_respond(req, 202, NULL, NULL, 0);
}

static int display_usage(FILE *f)
{
    fprintf(f,
            "usage: sluice display [--addr HOST:PORT] [--quiet]\n"
            "\n"
            "Receive CloudEvents over HTTP (binary, structured or "
            "batched mode) and print\n"
            "each as Knative's event_display does; answer 202, or 400 "
            "for what is not an event.\n"
            "\n"
            "  --addr HOST:PORT  where to listen (default %s; port 0 "
            "picks a free one)\n"
            "  --quiet           print no events, only 'received N "
            "events' on exit\n",
            DISPLAY_DEFAULT_ADDR);
    return 0;
}

/* "host:port" of the listener: the host as given, the port as bound. */
static void display_print_addr(const char *addr, unsigned port)
{
    const char *colon = strrchr(addr, ':');
    int hostlen = colon ? (int)(colon - addr) : (int)strlen(addr);

    printf("listening on %.*s:%u\n", hostlen, addr, port);
    fflush(stdout);
}

int sl_cmd_display(int argc, char **argv)
{
    struct sl_http_server_opts so;
    const char *addr = DISPLAY_DEFAULT_ADDR;
    struct display d;
    struct sl_diag diag;
    int i, rc = 1;

    memset(&d, 0, sizeof(d));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return display_usage(stdout);
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            d.quiet = true;
        } else if (strncmp(a, "--addr=", 7) == 0) {
            addr = a + 7;
        } else if (strcmp(a, "--addr") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice display: option '--addr' needs a "
                                "value\n");
                return 1;
            }
            addr = argv[++i];
        } else {
            fprintf(stderr,
                    "sluice display: unknown %s '%s' (try 'sluice display "
                    "--help')\n",
                    a[0] == '-' ? "option" : "argument", a);
            return 1;
        }
    }
    sl_diag_clear(&diag);
    sl_buf_init(&d.out, DISPLAY_MAX_OUT);
    if (sl_loop_new(&d.loop) != 0) {
        fprintf(stderr, "sluice display: cannot create the event loop\n");
        goto out;
    }
    /* Before any thread exists (none do: libmicrohttpd runs on the loop). */
    if (sl_loop_signal(d.loop, SIGTERM, display_on_signal, &d) != 0 ||
        sl_loop_signal(d.loop, SIGINT, display_on_signal, &d) != 0) {
        fprintf(stderr, "sluice display: cannot handle signals\n");
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&so, 0, sizeof(so));
    so.listen = addr;
    so.name = "display";
    if (sl_http_server_new(d.loop, &so, display_handle, &d, &d.srv, &diag) !=
        0) {
        fprintf(stderr, "sluice display: %s\n",
                diag.msg[0] ? diag.msg : "cannot start the server");
        goto out;
    }
    display_print_addr(addr, sl_http_server_port(d.srv));
    if (sl_loop_run(d.loop) != 0) {
        fprintf(stderr, "sluice display: the event loop failed\n");
        goto out;
    }
    rc = 0;
out:
    sl_http_server_free(d.srv);
    sl_loop_free(d.loop);
    sl_buf_fini(&d.out);
    if (rc == 0 && d.quiet) {
        printf("received %llu events\n", (unsigned long long)d.count);
        fflush(stdout);
    }
    return rc;
}
