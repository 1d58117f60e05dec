/* tests/unit/cnp_test.h - a minimal test harness for the unit binaries.
 *
 * Each test is a function registered in a table; the binary prints one line per
 * test ("PASS: name" / "FAIL: name") that tests/run-tests.sh counts, and exits
 * non-zero when any test failed.
 */
#ifndef CNP_TEST_H
#define CNP_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int cnp_test_failures;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    cnp_test_failures++; } } while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) { \
    fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g\n", \
            __FILE__, __LINE__, #a, a_, #b, b_); cnp_test_failures++; } } while (0)

typedef struct cnp_test_case { const char *name; void (*fn)(void); } cnp_test_case;

#define TEST_CASE(fn) { #fn, fn }

static int cnp_test_run_all(const char *suite, const cnp_test_case *cases, size_t n)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const int before = cnp_test_failures;
        cases[i].fn();
        const int ok = cnp_test_failures == before;
        printf("%s: %s.%s\n", ok ? "PASS" : "FAIL", suite, cases[i].name);
        failed += !ok;
    }
    fflush(stdout);
    return failed ? 1 : 0;
}

#define CNP_TEST_MAIN(suite, ...) \
    int main(void) { \
        static const cnp_test_case cases_[] = { __VA_ARGS__ }; \
        return cnp_test_run_all(suite, cases_, sizeof cases_ / sizeof cases_[0]); \
    }

#endif /* CNP_TEST_H */
