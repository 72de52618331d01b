/* The libyaml event floor: parse every given file (or every regular file in a given directory,
 * one level, like `runbook lint DIR`) with yaml_parser_parse and nothing else. No tree, no
 * lowering, no checks: what any libyaml-based linter has to pay at least.
 *
 *   cc -O2 -o bench/out/yaml_floor bench/yaml_floor.c $(pkg-config --cflags --libs yaml-0.1)
 *   bench/out/yaml_floor bench/out/corpus bench/out/big/x.yaml
 *
 * Prints "<files> files, <events> events" on stdout; exit 1 on a parse error, 2 on an unreadable path.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

static unsigned long files, events;

static int parse_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    yaml_parser_t parser;
    yaml_event_t event;
    if (!yaml_parser_initialize(&parser)) { fclose(f); return 2; }
    yaml_parser_set_input_file(&parser, f);
    int rc = 0, done = 0;
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            fprintf(stderr, "%s:%lu:%lu: %s\n", path, (unsigned long)parser.problem_mark.line + 1,
                    (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "error");
            rc = 1;
            break;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        events++;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    files++;
    return rc;
}

static int is_yaml(const char *name) {
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

int main(int argc, char **argv) {
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { perror(argv[i]); return 2; }
        if (!S_ISDIR(st.st_mode)) { int r = parse_file(argv[i]); if (r > rc) rc = r; continue; }
        DIR *d = opendir(argv[i]);
        if (!d) { perror(argv[i]); return 2; }
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (!is_yaml(e->d_name)) continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            int r = parse_file(path);
            if (r > rc) rc = r;
        }
        closedir(d);
    }
    printf("%lu files, %lu events\n", files, events);
    return rc;
}
