/*
 * core/uuid.h - random (version 4) UUIDs from getrandom(2).
 */
#ifndef SL_CORE_UUID_H
#define SL_CORE_UUID_H

#include <stdbool.h>

#define SL_UUID_STR_LEN 36

/*
 * Write a new v4 UUID as 36 lower-case characters plus NUL into 'out'
 * ("xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx"). Returns 0, or SL_EIO when
 * the kernel gives no randomness ('out' is then "").
 */
int sl_uuid_v4(char out[SL_UUID_STR_LEN + 1]);

/* True when 's' is a UUID in 8-4-4-4-12 hex form (any version, any case). */
bool sl_uuid_valid(const char *s);

#endif
