/*
 * test/unit/check.c - the unit-test runner behind check.h.
 */
#include "test/unit/check.h"

#include <errno.h>

/*
 * Run every registered test, or only those named on the command line.
 * A failing assertion exits the process at once, so reaching the end
 * means every selected test passed.
 */
int check_run(int argc, char **argv)
{
    int i, j, ran = 0;

    for (i = 0; i < check_ntests; i++) {
        long before = sl_alloc_live(), after;
        int selected = argc < 2;
        for (j = 1; j < argc; j++)
            if (strcmp(argv[j], check_tests[i].name) == 0)
                selected = 1;
        if (!selected)
            continue;
        check_tests[i].fn();
        after = sl_alloc_live();
        if (after != before) {
            fprintf(stderr, "%s: leaked %ld allocation(s)\n",
                    check_tests[i].name, after - before);
            return 1;
        }
        ran++;
    }
    printf("%d tests passed\n", ran);
    return 0;
}

const char *check_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("SL_TEST_ROOT");

    if (rel[0] == '/' || root == NULL || root[0] == '\0')
        snprintf(buf, sizeof(buf), "%s", rel);
    else
        snprintf(buf, sizeof(buf), "%s/%s", root, rel);
    return buf;
}

char *check_read_file(const char *path, size_t *plen)
{
    const char *full = check_path(path);
    FILE *f = fopen(full, "rb");
    char *p = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        CHECK_FAIL("cannot open '%s': %s", full, strerror(errno));
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            p = sl_xrealloc(p, cap);
        }
        n = fread(p + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    p[len] = '\0';
    if (plen != NULL)
        *plen = len;
    return p;
}
