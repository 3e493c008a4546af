/*
 * net/server.h - an HTTP/1.1 server on libmicrohttpd, driven by a loop.
 *
 * libmicrohttpd runs without threads of its own: its epoll descriptor is a
 * watcher on the sl_loop and a loop timer follows MHD_get_timeout(), so the
 * server, its requests and every callback below live on the loop thread.
 * Every function here must be called on that thread. (docs/net.md has the
 * request states and the limits.)
 *
 * A request reaches the handler once its whole body is in. The handler
 * answers at once or later:
 *
 *     static void handle(void *arg, struct sl_http_req *req)
 *     {
 *         if (strcmp(sl_http_req_path(req), "/hello") == 0) {
 *             sl_http_respond(req, 200, "text/plain", "hi\n", 3);
 *             return;                  (req is gone now)
 *         }
 *         start_work(req);             (answer later, from the loop
 *         sl_http_req_on_close(req, work_cancel, work);   thread)
 *     }
 *
 * Ownership of a request: from the handler call until sl_http_respond(),
 * sl_http_stream_end() or the on_close callback (whichever comes first) the
 * request is the handler's; after any of them it is freed by the server
 * and must not be touched. A request that is not answered inside the
 * handler suspends its connection until it is.
 *
 * Requests the server answers on its own, without the handler: a body over
 * the limit (413 with a plain-text message), and whatever libmicrohttpd
 * rejects (400 malformed, 414 URI too long, 431 headers too large).
 */
#ifndef SL_NET_SERVER_H
#define SL_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/http.h"

struct sl_loop;
struct sl_diag;
struct sl_http_server;
struct sl_http_req;

/*
 * Server settings. Zero (or NULL) in any field picks the default shown;
 * limits cannot be switched off.
 */
struct sl_http_server_opts {
    /* "host:port" or "[v6]:port"; port 0 picks a free one. A host name is
     * resolved and the first address that binds is used.
     * Default "127.0.0.1:0". */
    const char *listen;
    /* Largest request body, counted as it arrives (chunked too); beyond it
     * the answer is 413. Default 1 MiB (SL_HTTP_DEFAULT_MAX_BODY). */
    size_t max_body_bytes;
    /* Connections open at once; more wait in the listen backlog until one
     * closes. Default 1000. */
    unsigned max_connections;
    /* Seconds a connection may stay silent (no bytes either way) before it
     * is closed; a connection waiting for the handler's answer or for
     * stream data is exempt. Default 60. */
    unsigned conn_timeout_s;
    /* Seconds a connection has, from being accepted or from the end of its
     * previous request, to deliver a complete request head (against
     * slowloris). Default 30. */
    unsigned header_timeout_s;
    /* libmicrohttpd's memory per connection; the request line and headers
     * must fit in it, larger ones get 414 or 431. Default 64 KiB. */
    size_t conn_memory_bytes;
    /* Bytes a streaming response may queue for a slow client before
     * sl_http_stream_write() says SL_ETOOBIG. Default 1 MiB. */
    size_t stream_queue_bytes;
    /* Name in log lines ("api", "ingress"). Default "http". */
    const char *name;
};

#define SL_HTTP_DEFAULT_MAX_BODY (1024 * 1024)

/*
 * The request handler: called once per request, on the loop thread, when
 * the head and the whole body have arrived. 'req' is the handler's until
 * it answers (see the file comment).
 */
typedef void sl_http_handler_fn(void *arg, struct sl_http_req *req);

/*
 * Told that 'req' ended before it was answered (or before its stream was
 * ended): the client went away, the connection failed or timed out, or the
 * server is being freed. 'req' is freed right after this returns and must
 * not be used inside it except to read its fields. Loop thread.
 */
typedef void sl_http_close_fn(void *arg, struct sl_http_req *req);

/*
 * Start a server on 'loop' with 'opts' (NULL for all defaults). Requests go
 * to handler(arg, req). '*out' receives the server, or NULL on failure.
 * Returns 0, SL_EINVAL (bad listen address), or SL_EIO / a code mapped
 * from errno when the address cannot be bound or libmicrohttpd refuses to
 * start; 'd' then says why ("cannot listen on '127.0.0.1:8001': Address
 * already in use").
 */
int sl_http_server_new(struct sl_loop *loop,
                       const struct sl_http_server_opts *opts,
                       sl_http_handler_fn *handler, void *arg,
                       struct sl_http_server **out, struct sl_diag *d);

/* The port the server listens on (useful after port 0). */
unsigned sl_http_server_port(const struct sl_http_server *srv);

/*
 * Close the listener and every connection and free the server. Requests
 * still owned by a handler get their on_close callback first (from inside
 * this call). Must not be called from a callback of this same server
 * (handler, on_close): defer it with a timer or sl_loop_post(). NULL is a
 * no-op.
 */
void sl_http_server_free(struct sl_http_server *srv);

/* ---- the request (all strings borrowed from 'req', NUL-terminated) ---- */

/* The method as received ("GET"). */
const char *sl_http_req_method(const struct sl_http_req *req);

/* The request-target as received ("/a/b%20c?x=1"). */
const char *sl_http_req_target(const struct sl_http_req *req);

/*
 * The path of the request-target, raw (not percent-decoded) and without
 * the query: "/a/b%20c". An absolute-form target ("http://h/p?q") gives
 * its path ("/p"). Split and decode it with sl_http_path_split().
 */
const char *sl_http_req_path(const struct sl_http_req *req);

/*
 * The decoded value of the first query parameter 'name', "" when it has no
 * '=', NULL when absent (parsing rules: sl_http_query_parse in net/url.h).
 */
const char *sl_http_req_query(const struct sl_http_req *req, const char *name);

/* The value of the first header 'name' (case-insensitive), or NULL. */
const char *sl_http_req_header(const struct sl_http_req *req, const char *name);

/*
 * All request headers in the order received, repeated names included;
 * '*pn' receives the count. Ready to pass to proto/http.h's decoder.
 */
const struct sl_http_header *sl_http_req_headers(const struct sl_http_req *req,
                                                 size_t *pn);

/*
 * The body: '*plen' receives its length. The bytes are followed by a NUL
 * that is not counted, so a text body is also a C string. Never NULL.
 */
const void *sl_http_req_body(const struct sl_http_req *req, size_t *plen);

/* The client's address: "127.0.0.1:50123" or "[::1]:50123". */
const char *sl_http_req_peer(const struct sl_http_req *req);

/*
 * Call fn(arg, req) if 'req' ends before it is answered (see
 * sl_http_close_fn). One callback per request; a new call replaces it;
 * fn == NULL removes it.
 */
void sl_http_req_on_close(struct sl_http_req *req, sl_http_close_fn *fn,
                          void *arg);

/* ---- answering ---- */

/*
 * Add a response header (copied) for the coming sl_http_respond() or
 * sl_http_stream_begin(); any number, repeats allowed. Returns 0, or
 * SL_EINVAL for a name that is not an HTTP token, a value that is empty
 * (libmicrohttpd cannot send one) or holds CR, LF or other control bytes,
 * and for Content-Length and Transfer-Encoding, which the server sets
 * itself.
 */
int sl_http_resp_header(struct sl_http_req *req, const char *name,
                        const char *value);

/*
 * Answer 'req' with 'status' (200..599), a Content-Type when
 * 'content_type' is not NULL, the headers added so far, and body[0..len)
 * (copied; body may be NULL when len is 0; ignored for 204 and 304, and
 * not sent for HEAD requests). The request is gone afterwards, whatever
 * the result. Returns 0, or SL_EINVAL for a status out of range (the
 * client then gets 500). Callable inside the handler or later.
 */
int sl_http_respond(struct sl_http_req *req, unsigned status,
                    const char *content_type, const void *body, size_t len);

/*
 * Start a streaming response: 'status', a Content-Type when not NULL, the
 * headers added so far, then a body of unknown length sent with chunked
 * transfer encoding (HTTP/1.0 clients: until the connection closes). The
 * request stays the handler's until sl_http_stream_end() or on_close.
 * Returns 0 or SL_EINVAL (status out of range; nothing was sent and the
 * request is still the caller's to answer).
 */
int sl_http_stream_begin(struct sl_http_req *req, unsigned status,
                         const char *content_type);

/*
 * Queue data[0..len) (copied) on a stream begun with
 * sl_http_stream_begin(). Returns 0, or SL_ETOOBIG when the client reads
 * too slowly and the queue would exceed 'stream_queue_bytes' (nothing was
 * queued; the caller is expected to end the stream), or SL_EINVAL when the
 * request is not streaming.
 */
int sl_http_stream_write(struct sl_http_req *req, const void *data, size_t len);

/*
 * End the stream: what is queued is still sent, then the final chunk. The
 * request is gone afterwards (no on_close, even if the client leaves
 * before the queue is drained).
 */
void sl_http_stream_end(struct sl_http_req *req);

#endif
