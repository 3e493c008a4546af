/*
 * net/client.h - a blocking HTTP client on libcurl's easy interface, for
 * the CLI and for tests (the daemon's own deliveries use libcurl multi on
 * the loop, elsewhere).
 *
 * Each call runs one request to completion on the calling thread, with its
 * own easy handle: calls on different threads do not share anything. No
 * redirects are followed, no proxy from the environment is used, no
 * "Expect: 100-continue" is sent, and libcurl installs no signal handlers
 * (CURLOPT_NOSIGNAL).
 *
 * libcurl's global state is set up once per process by the first call
 * (through pthread_once), or earlier by sl_http_client_global_init(); it
 * is never torn down (it is reachable memory, not a leak).
 *
 * Failures are mapped here, at the edge, with a one-line diagnostic:
 *   SL_EIO        "cannot connect to '127.0.0.1:8001': Connection refused"
 *   SL_ETIMEDOUT  "request to '127.0.0.1:8001' timed out after 2000 ms"
 *   SL_ETOOBIG    "response from '127.0.0.1:8001' exceeds 1048576 bytes"
 *   SL_EINVAL     "invalid URL 'htp:/x': ..."
 * An HTTP error status is not a failure: it is in the response.
 */
#ifndef SL_NET_CLIENT_H
#define SL_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "proto/http.h"

struct sl_diag;

/* A request. Everything is borrowed for the duration of the call. */
struct sl_http_client_req {
    const char *method; /* NULL: "GET", or "POST" when there is a body */
    const char *url;    /* http:// or https:// */
    const struct sl_http_header *headers; /* extra request headers */
    size_t nheaders;
    const void *body; /* NULL: no body */
    size_t body_len;
    const char *bearer_token; /* sends "Authorization: Bearer <token>" */
    /* Whole-request limit in ms. 0: 30 s for sl_http_client_do(), none
     * for sl_http_client_stream() (a watch may last for hours). */
    long timeout_ms;
    /* Connection set-up limit in ms. 0: 10 s, or timeout_ms if smaller. */
    long connect_timeout_ms;
    /* Largest response body (and, for streams, longest line). 0: 16 MiB. */
    size_t max_body;
};

/* A response; owned by the caller, release with sl_http_client_resp_fini. */
struct sl_http_client_resp {
    int status;                     /* e.g. 200 */
    struct sl_http_headers headers; /* of the final response, in order */
    struct sl_buf body;             /* NUL-terminated; see the stream call */
};

/*
 * Set up libcurl's global state now (it is otherwise done by the first
 * request). Safe to call from any thread, any number of times; returns 0
 * or SL_EIO when libcurl cannot initialise.
 */
int sl_http_client_global_init(void);

/*
 * Run 'rq' and fill 'resp' (which need not be initialised; it always is
 * afterwards, so sl_http_client_resp_fini() is always safe). Returns 0
 * when a response arrived, whatever its status, or a code listed in the
 * file comment with the reason in 'd'.
 */
int sl_http_client_do(const struct sl_http_client_req *rq,
                      struct sl_http_client_resp *resp, struct sl_diag *d);

/*
 * A line of a streamed body, without its "\n" (and without a "\r" before
 * it); 'line' is NUL-terminated and borrowed for the call. Return 0 to go
 * on, anything else to stop reading and close the connection.
 */
typedef int sl_http_line_fn(void *arg, const char *line, size_t len);

/*
 * Run 'rq' and, when the status is 2xx, hand each line of the body to
 * fn(arg, ...) as it arrives (a last line without "\n" too); for any other
 * status the body is collected into resp->body instead (an error message),
 * fn is not called. Returns 0 when the server ended the body or fn asked
 * to stop, or a code listed in the file comment (SL_ETOOBIG: a line longer
 * than max_body). 'resp' is always initialised, as for sl_http_client_do().
 */
int sl_http_client_stream(const struct sl_http_client_req *rq,
                          sl_http_line_fn *fn, void *arg,
                          struct sl_http_client_resp *resp, struct sl_diag *d);

/* The value of the first response header 'name' (case-insensitive). */
const char *sl_http_client_resp_header(const struct sl_http_client_resp *resp,
                                       const char *name);

/* Free what a response holds; it may be reused. */
void sl_http_client_resp_fini(struct sl_http_client_resp *resp);

#endif
