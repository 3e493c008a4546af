/*
 * core/yaml_emit.h - json-c to block YAML, the way kubectl writes it.
 *
 * The output is what `kubectl get -o yaml` prints: mappings in the
 * object's key order, two spaces per level, sequences under a key at the
 * key's own indentation ("key:\n- a"), a mapping inside a sequence item
 * starting on the dash's line ("- name: x\n  port: 80"), empty
 * collections in flow style ({} and []).
 *
 * The contract: for every value v this accepts, sl_yaml_to_json
 * (core/yaml.h) reads the output back as one document equal to v
 * (json_object_equal; a NaN reads back as NaN, which json_object_equal
 * never calls equal). So strings are quoted whenever a plain scalar would
 * mean something else, under the YAML 1.2 core schema that yaml.h reads
 * and under YAML 1.1 too (kubectl users paste output into PyYAML and
 * go-yaml v2): null, ~, booleans including yes/no/on/off/y/n in any case,
 * anything that looks like a number or a timestamp, "<<" and "=". Those
 * get double quotes (as kubectl does: "true", "8080"). Strings that are
 * only unsafe as syntax (a leading indicator such as '*' or '-', a
 * leading or trailing space, ": " or " #" inside) get single quotes;
 * strings with control or non-printable characters get double quotes with
 * escapes (\t, \n, \x7F, \u2028, ...); multi-line strings get a literal
 * block (|, |- or |+) when every line is printable and the first
 * non-empty one does not start with a space, double quotes otherwise.
 * Mapping keys longer than 1000 bytes use the explicit "? key" form (an
 * implicit key is limited to 1024 characters).
 *
 * Integers are written in decimal, doubles with the fewest digits that
 * read back to the same double (always with a '.' and a signed exponent,
 * so YAML 1.1 readers see floats too; .inf, -.inf, .nan), booleans as
 * true/false, null as null.
 */
#ifndef SL_CORE_YAML_EMIT_H
#define SL_CORE_YAML_EMIT_H

#include <json-c/json.h>

struct sl_buf;
struct sl_diag;

/*
 * With a top-level array, write one document per element, separated by
 * "---" lines (kubectl's multi-document form). An empty array then writes
 * nothing; any other value is one document as without the flag.
 */
#define SL_YAML_EMIT_DOCS 0x1u

/*
 * Append 'v' (borrowed; NULL is JSON null) to 'out' as YAML, ending with a
 * newline. 'flags' is 0 or SL_YAML_EMIT_DOCS.
 *
 * Returns 0; SL_EINVAL when a value cannot be written so that it reads
 * back equal (a string that is not valid UTF-8, an unsigned integer above
 * INT64_MAX), with the value's path in diag->field ("spec.items[2]");
 * SL_ETOOBIG when nesting is deeper than SL_YAML_MAX_DEPTH (the parser's
 * limit) or 'out' would exceed its maximum. On failure 'out' is left as it
 * was. The parser's other limits (SL_YAML_MAX_NODES, SL_YAML_MAX_TEXT) are
 * not checked here.
 */
int sl_yaml_emit(struct json_object *v, unsigned flags, struct sl_buf *out,
                 struct sl_diag *diag);

#endif
