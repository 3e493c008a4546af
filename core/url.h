/*
 * core/url.h - URI references (RFC 3986): parse, recompose, resolve.
 *
 * The parser follows the RFC 3986 grammar strictly: a reference is split
 * into scheme, authority (userinfo, host, port), path, query and fragment,
 * and every character must be allowed where it stands (characters outside
 * the RFC's sets, such as space, '"', '<', '>', '{', '|' or any byte
 * >= 0x80, must be percent-encoded; a '%' must start a %XY escape). Hosts
 * are registered names, IPv4 addresses or IP literals in brackets (IPv6,
 * with an optional RFC 6874 zone "%25eth0", or IPvFuture). A relative
 * reference whose first path segment holds ':' is rejected (it would read
 * as a scheme). Nothing is decoded or normalised except that the scheme is
 * lower-cased and an empty port ("http://a:/") reads as no port.
 *
 * Errors name the byte offset of the fault: "invalid character ' ' in host
 * at offset 11".
 */
#ifndef SL_CORE_URL_H
#define SL_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

struct sl_diag;

/*
 * A parsed reference. Every string is heap-owned by the struct and freed
 * by sl_url_fini. A component that is absent is NULL; present but empty
 * is "" ("http://a?" has query ""). 'host' is non-NULL exactly when the
 * reference has an authority; an IP literal keeps its brackets
 * ("[::1]"). 'path' is never NULL after a successful parse.
 */
struct sl_url {
    char *scheme;   /* lower-cased, without ':' */
    char *userinfo; /* without '@' */
    char *host;
    int port; /* 0..65535, or -1 when absent */
    char *path;
    char *query;    /* without '?' */
    char *fragment; /* without '#' */
};

/*
 * Parse the whole of 's' as a URI-reference (absolute or relative) into
 * '*out' (overwritten; call sl_url_fini afterwards whatever the result).
 * Returns 0 or SL_EINVAL with the offending offset in 'diag'.
 */
int sl_url_parse(const char *s, struct sl_url *out, struct sl_diag *diag);

/*
 * Parse 's' as an absolute http or https URL: as sl_url_parse, and the
 * scheme must be "http" or "https" (any case), the host non-empty and the
 * port, when given, 1..65535. Returns 0 or SL_EINVAL.
 */
int sl_url_parse_http(const char *s, struct sl_url *out, struct sl_diag *diag);

/* Free the components of 'u' and reset it to empty (no-op on NULL). */
void sl_url_fini(struct sl_url *u);

/* True when 'u' has a scheme (an absolute URI, RFC 3986 section 4.3). */
bool sl_url_is_absolute(const struct sl_url *u);

/*
 * Recompose 'u' (RFC 3986 section 5.3) into a new heap string, freed with
 * sl_free. A missing path counts as "".
 */
char *sl_url_format(const struct sl_url *u);

/*
 * Resolve 'ref' against 'base' (RFC 3986 section 5.2, strict: a scheme in
 * 'ref' always makes it absolute) into '*out' (overwritten; sl_url_fini
 * it). Dot segments are removed from the merged path. 'base' must be
 * absolute: otherwise SL_EINVAL and '*out' is left empty.
 */
int sl_url_resolve(const struct sl_url *base, const struct sl_url *ref,
                   struct sl_url *out);

/*
 * Parse 'base' and 'ref', resolve, and return the recomposed result in
 * '*out' (heap, sl_free; NULL on failure). Returns 0 or SL_EINVAL with a
 * message naming which of the two was bad.
 */
int sl_url_resolve_str(const char *base, const char *ref, char **out,
                       struct sl_diag *diag);

/*
 * Remove "." and ".." segments from the path p[0..n) (RFC 3986 section
 * 5.2.4) and return the result as a new heap string (sl_free).
 */
char *sl_url_remove_dots(const char *p, size_t n);

#endif
