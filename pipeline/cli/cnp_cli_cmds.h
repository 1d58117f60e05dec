/* pipeline/cli/cnp_cli_cmds.h - the commands main() hands over to. */
#ifndef CNP_CLI_CMDS_H
#define CNP_CLI_CMDS_H

/* `canopy batch`: the whole command line (argv[1] = "batch") for run.json,
 * and a copy of argv + 1 to parse. @return the exit code. */
int cnp_batch_main(int argc, char **argv, char **args);

/* `canopy monitor`: argv[0] = "monitor". @return the exit code. */
int cnp_monitor_main(int argc, char **argv);

#endif /* CNP_CLI_CMDS_H */
