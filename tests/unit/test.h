/* A minimal unit-test harness: TEST(name) registers a test at load time,
 * CHECK* record a failure and end the test. test_main.c runs them. */
#ifndef TUNTCP_TEST_H
#define TUNTCP_TEST_H

#include <stdint.h>
#include <stdio.h>

struct test_case {
    const char *name;
    void (*fn)(uint64_t param);
    uint64_t param;
    struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Extra context printed if the running test fails (e.g. a replay command). */
void test_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                         \
    static void name(uint64_t param);                                      \
    static struct test_case name##_case = { #name, name, 0, 0 };           \
    __attribute__((constructor)) static void name##_register(void)         \
    { test_register(&name##_case); }                                       \
    static void name(__attribute__((unused)) uint64_t param)

#define CHECK(cond)                                                        \
    do { if (!(cond)) { test_fail(__FILE__, __LINE__, "%s", #cond);        \
                        return; } } while (0)

#define CHECK_EQ(a, b)                                                     \
    do { long long a_ = (long long)(a), b_ = (long long)(b);               \
         if (a_ != b_) { test_fail(__FILE__, __LINE__,                     \
             "%s == %s (%lld != %lld)", #a, #b, a_, b_); return; } } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do { if (!(cond)) { test_fail(__FILE__, __LINE__, __VA_ARGS__);        \
                        return; } } while (0)

#endif
