"""The command line: the parser and exit codes (main), the commands, status, cron, the tick gate
and runner, and the long-polling bot: the entry points a user, cron or systemd calls."""
