/*
 * test/fuzz/fuzz_cesql.c - libFuzzer target for the CESQL engine.
 *
 * The input (up to its first NUL byte) is an expression. A compile
 * failure must be SL_EINVAL with a message naming a position. An
 * expression that compiles is evaluated against a fixed event in
 * complete and in fail-fast mode, and the results must agree with each
 * other and with the contracts of triggers/cesql.h: a valid type, a
 * message exactly when there is an error, the same first error in both
 * modes (both evaluate the same way up to it), the same value when there
 * is none, the zero value in fail-fast mode when there is one, a match
 * only for Boolean true without an error, String results that stay inside
 * their storage, and no heap allocation while evaluating.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "proto/event.h"
#include "triggers/cesql.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static struct sl_event *fz_event(void)
{
    static struct sl_event *ev;
    struct sl_event *e;

    if (ev != NULL)
        return ev;
    e = sl_event_new(SL_CE_V10);
    if (sl_event_set_str(e, "id", "fz-1", NULL) != 0 ||
        sl_event_set_str(e, "source", "https://example.com/src", NULL) != 0 ||
        sl_event_set_str(e, "type", "com.example.Order.Created", NULL) != 0 ||
        sl_event_set_str(e, "subject", " Grüße ΩΜΈΓΑ 日本 ", NULL) != 0 ||
        sl_event_set_str(e, "time", "2018-04-26T14:48:09+02:00", NULL) != 0 ||
        sl_event_set_str(e, "datacontenttype", "application/json", NULL) != 0 ||
        sl_event_set_int(e, "count", 42, NULL) != 0 ||
        sl_event_set_int(e, "small", INT32_MIN, NULL) != 0 ||
        sl_event_set_bool(e, "flag", true, NULL) != 0 ||
        sl_event_set_str(e, "text", "-17", NULL) != 0 ||
        sl_event_set_str(e, "yes", "TRUE", NULL) != 0 ||
        sl_event_set(e, "bin", SL_CE_BINARY, "AQID", 4, NULL) != 0)
        abort();
    /* Kept for the whole run (LeakSanitizer sees it through 'ev'). */
    ev = e;
    return ev;
}

/* A result must be well-formed. */
static void fz_check(const struct sl_cesql_result *r)
{
    if (r->type != SL_CESQL_BOOL && r->type != SL_CESQL_INT &&
        r->type != SL_CESQL_STRING)
        abort();
    if (r->err == SL_CESQL_ERR_PARSE || r->err > SL_CESQL_ERR_GENERIC)
        abort();
    if ((r->err != SL_CESQL_ERR_NONE) !=
        (strncmp(r->msg, "at position ", 12) == 0))
        abort();
    if (r->err == SL_CESQL_ERR_NONE && r->msg[0] != '\0')
        abort();
    if (memchr(r->msg, '\0', sizeof(r->msg)) == NULL)
        abort();
    if (r->type == SL_CESQL_STRING) {
        volatile char sum = 0;
        size_t i;
        if (r->s == NULL)
            abort();
        for (i = 0; i < r->slen; i++) /* ASan checks every byte */
            sum = (char)(sum ^ r->s[i]);
        (void)sum;
    }
}

static bool fz_same_value(const struct sl_cesql_result *a,
                          const struct sl_cesql_result *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SL_CESQL_BOOL:
        return a->b == b->b;
    case SL_CESQL_INT:
        return a->i == b->i;
    default:
        return a->slen == b->slen && memcmp(a->s, b->s, a->slen) == 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    static struct sl_cesql_result co, ff;
    struct sl_event *ev = fz_event();
    char *expr = sl_xmemdup(p, n);
    struct sl_cesql *q = (struct sl_cesql *)&q;
    long live = sl_alloc_live();
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_cesql_compile(expr, &q, &d);
    if (rc != 0) {
        if (rc != SL_EINVAL || q != NULL ||
            strncmp(d.msg, "at position ", 12) != 0 ||
            sl_cesql_check(expr, NULL) != SL_EINVAL)
            abort();
        sl_free(expr);
        return 0;
    }
    if (q == NULL || sl_cesql_check(expr, NULL) != 0)
        abort();
    live = sl_alloc_live();
    sl_cesql_eval(q, ev, false, &co);
    sl_cesql_eval(q, ev, true, &ff);
    if (sl_alloc_live() != live)
        abort();
    fz_check(&co);
    fz_check(&ff);
    if (co.err != ff.err)
        abort();
    if (ff.err == SL_CESQL_ERR_NONE && !fz_same_value(&co, &ff))
        abort();
    if (ff.err != SL_CESQL_ERR_NONE &&
        ((ff.type == SL_CESQL_BOOL && ff.b) ||
         (ff.type == SL_CESQL_INT && ff.i != 0) ||
         (ff.type == SL_CESQL_STRING && ff.slen != 0)))
        abort();
    if (sl_cesql_match(q, ev) !=
        (ff.err == SL_CESQL_ERR_NONE && ff.type == SL_CESQL_BOOL && ff.b))
        abort();
    sl_cesql_free(q);
    sl_free(expr);
    return 0;
}
