/* rusage_exec OUT PROGRAM [ARGS...] — runs PROGRAM and writes its CPU times
 * and peak RSS to OUT. It exists because Linux carries a parent's peak RSS
 * into a forked child across exec (exec_mmap records the old mm's high-water
 * mark), so a benchmark harness that imported pyarrow would inflate every
 * child's figure. Forking from this small process resets that baseline. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rusage_exec OUT PROGRAM [ARGS...]\n");
        return 127;
    }
    pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 127;
    FILE *out = fopen(argv[1], "w");
    if (out) {
        fprintf(out, "%.6f %.6f %ld\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
                ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
        fclose(out);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
