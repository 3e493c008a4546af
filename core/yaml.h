/*
 * core/yaml.h - YAML (multi-document) to json-c.
 *
 * Every document of a YAML stream becomes one json-c value. Scalars follow
 * the YAML 1.2 core schema: plain 'null', '~' and empty -> null;
 * true/True/TRUE/false/False/FALSE -> boolean; [-+]?[0-9]+ (and 0x, 0o
 * forms) -> integer, and an integer that does not fit int64 is an error
 * (never a silent float); decimal floats, .inf, .nan ->
 * double; everything else, and every quoted or block scalar, -> string.
 * Anchors and aliases are expanded (bounded, against "billion laughs");
 * mapping keys must be scalars; duplicate keys are an error; the merge key
 * '<<' merges the aliased mapping(s). Explicit tags !!str, !!int, !!bool,
 * !!float, !!null, !!map, !!seq are honoured.
 *
 * Every error names its position: "line 3 column 7: ..." (1-based).
 */
#ifndef SL_CORE_YAML_H
#define SL_CORE_YAML_H

#include <stddef.h>

#include <json-c/json.h>

struct sl_diag;

/* Limits against hostile input (node count counts alias expansions). */
#define SL_YAML_MAX_DEPTH 128
#define SL_YAML_MAX_NODES 1000000
/* Bytes of scalar and key text one call may build, alias copies included. */
#define SL_YAML_MAX_TEXT  (64 * 1024 * 1024)

/*
 * Parse s[0..n) and return the documents as a json-c array (one element per
 * document; empty documents, e.g. a lone "---", are skipped) in '*out',
 * owned by the caller (json_object_put). Returns 0, SL_EINVAL with
 * "line L column C: what" in 'diag' (field "line L column C"), or
 * SL_ETOOBIG when a limit is exceeded.
 */
int sl_yaml_to_json(const char *s, size_t n, struct json_object **out,
                    struct sl_diag *diag);

#endif
