/* fuzz_options.c: arbitrary strings as the numbers of command-line options. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arg = malloc(size + 1);
    if (!arg)
        return 0;
    memcpy(arg, data, size);
    arg[size] = '\0';
    long long i;
    uint64_t u;
    double x;
    if (cli_parse_int(arg, 1, 4096, &i) && (i < 1 || i > 4096))
        abort();
    (void)cli_parse_u64(arg, &u);
    if (cli_parse_real(arg, 0, 100, 1, &x) && !(x > 0 && x <= 100))
        abort();
    free(arg);
    return 0;
}
