/* check_run.h: the main() every Check test program shares: run the suite,
 * exit non-zero if any test failed (so that make check sees it). */
#ifndef DINORNN_CHECK_RUN_H
#define DINORNN_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
