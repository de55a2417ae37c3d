/* sample_constraints.c: dinornn-sample's constraints on a name's shape,
 * compiled against the model's vocabulary, their errors in the options'
 * words, and their JSON. */
#include <stdio.h>
#include <string.h>

#include "sample_constraints.h"

int sample_shape_given(const sample_shape *s)
{
    return s->suffix || s->exclude || s->pattern || s->contains.count > 0;
}

/* The library's message begins with the constraint's name ("pattern
 * '[ab': ..."): the option's, once "--" is put before it. */
static _Noreturn void refuse(const drnn_error *err)
{
    static const char *const names[] = {"prefix", "suffix", "contains", "exclude", "pattern"};
    const int status = err->code == DRNN_ERR_NOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    const char *dashes = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(err->message, names[i], n) == 0 && strchr(" :", err->message[n]))
            dashes = "--";
    }
    /* A prefix or suffix longer than the names allowed: say which bound. */
    const char *hint = strstr(err->message, "more than the longest name allowed")
                           ? "; give a shorter one, or a larger --max-length" : "";
    cli_die(status, "%s%s%s", dashes, err->message, hint);
}

drnn_constraint *sample_shape_compile(const sample_shape *s, const drnn_train_state *st,
                                      const drnn_token *prefix, int prefix_len, int min_len,
                                      int max_len)
{
    /* The prefix as cli_encode read it (blanks around it gone, its
     * messages already given), back to text: normalising it again changes
     * nothing. */
    char prefix_text[4 * DRNN_MAX_NAME_LEN + 1] = "";
    if (prefix_len > 0)
        drnn_vocab_decode(&st->vocab, prefix, prefix_len, 0, prefix_text, sizeof prefix_text);
    const drnn_constraint_spec spec = {
        .prefix = prefix_text, .suffix = s->suffix, .contains = s->contains.items,
        .n_contains = s->contains.count, .exclude = s->exclude, .pattern = s->pattern,
        .min_len = min_len, .max_len = max_len, .keep_case = st->hp.keep_case,
    };
    drnn_constraint *c;
    drnn_error err;
    if (drnn_constraint_compile(&c, &spec, &st->vocab, &err))
        refuse(&err);
    return c;
}

/* ,"key":"value" when value is given. */
static void json_text(FILE *fp, int *first, const char *key, const char *value)
{
    if (!value)
        return;
    fprintf(fp, "%s\"%s\":", *first ? "" : ",", key);
    cli_json_string(fp, value);
    *first = 0;
}

void sample_shape_json(FILE *fp, const sample_shape *s, const char *prefix)
{
    int first = 1;
    fputs(",\"constraints\":{", fp);
    json_text(fp, &first, "prefix", prefix && *prefix ? prefix : NULL);
    json_text(fp, &first, "suffix", s->suffix);
    if (s->contains.count > 0) {
        fprintf(fp, "%s\"contains\":[", first ? "" : ",");
        for (int i = 0; i < s->contains.count; i++) {
            fputs(i ? "," : "", fp);
            cli_json_string(fp, s->contains.items[i]);
        }
        fputc(']', fp);
        first = 0;
    }
    json_text(fp, &first, "exclude", s->exclude);
    json_text(fp, &first, "pattern", s->pattern);
    fputc('}', fp);
}
