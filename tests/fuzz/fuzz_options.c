/* fuzz_options.c: arbitrary strings as the numbers of command-line options. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

/* cli.c's messages name their program. */
const char cli_program_name[] = "fuzz_options";

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
    /* Whatever is accepted is plain decimal (no blanks, hex, inf or nan)
     * and in range. */
    size_t len = strlen(arg); /* the input may hold NUL bytes: the option ends at the first */
    int plain = len > 0 && strspn(arg, "0123456789.eE+-") == len;
    if (cli_parse_int(arg, 1, 4096, &i) == CLI_NUMBER_OK && (!plain || i < 1 || i > 4096))
        abort();
    if (cli_parse_u64(arg, &u) == CLI_NUMBER_OK && !plain)
        abort();
    if (cli_parse_real(arg, 0, 100, 1, &x) == CLI_NUMBER_OK && (!plain || !(x > 0 && x <= 100)))
        abort();
    free(arg);
    return 0;
}
