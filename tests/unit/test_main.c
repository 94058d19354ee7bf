/* Runs the registered unit tests: all of them, or those whose name contains
 * the first argument. The last line is "N passed, N failed". */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static struct test_case *tests_head, **tests_tail = &tests_head;
static int current_failed;
static char context[512];

void test_register(struct test_case *tc)
{
    tc->next = NULL;
    *tests_tail = tc;
    tests_tail = &tc->next;
}

void test_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    current_failed = 1;
    fprintf(stderr, "    %s:%d: check failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int verbose = getenv("TEST_VERBOSE") != NULL;
    int passed = 0, failed = 0;

    for (struct test_case *tc = tests_head; tc; tc = tc->next) {
        if (filter && !strstr(tc->name, filter))
            continue;
        current_failed = 0;
        context[0] = '\0';
        tc->fn(tc->param);
        if (current_failed) {
            failed++;
            printf("FAIL %s\n", tc->name);
            if (context[0])
                printf("     %s\n", context);
        } else {
            passed++;
            if (verbose)
                printf("ok   %s\n", tc->name);
        }
        fflush(stdout);
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
