"""`maestro agent git|ci|deploy|incident open|resolve|mlflow|stream|flush`.

The agent's parser; each sub-command's options and collector live in
`maestro_grpc.agent.commands.<name>`.
"""

from __future__ import annotations

from maestro_grpc.agent.commands import ci, common, deploy, flush, git, incident, mlflow, stream

AGENT_DESCRIPTION = """\
The CI agent: collects process data and streams it to the Metrics service.

Everything is first written to a spool in the state dir (fsynced), then
streamed with StreamMetrics; a batch leaves the spool only once the server
acknowledged it. A crash, a server restart or a dropped connection loses
nothing and stores nothing twice: the next stream resumes from the server's
committed sequence. The agent reconnects with exponential backoff and jitter
and gives up (exit 3, data kept for the next run) only after the deadline
passes without progress.

Settings: MAESTRO_ADDRESS (default localhost:50051), MAESTRO_TOKEN (sent as
'authorization: Bearer <token>'), MAESTRO_TLS=1 / MAESTRO_CA_FILE,
MAESTRO_AGENT_STATE_DIR (default ~/.maestro-agent), MAESTRO_AGENT_PRODUCER_ID
(default: generated once per state dir), MAESTRO_AGENT_DEADLINE_SECONDS
(default 300), MAESTRO_AGENT_PROJECT (default for --project).

Exit codes: 0 stored; 1 stored, but rows refused or input lines invalid;
2 bad options or unreadable input; 3 not delivered (kept in the spool).
"""

# In the order `maestro agent --help` lists them.
COMMANDS = (git, ci, deploy, incident, mlflow, stream, flush)


def add_commands(commands: common.SubParsers) -> None:
    agent = commands.add_parser(
        "agent",
        help="collect process data (git, CI, tests, deployments, MLflow) and stream it",
        description=AGENT_DESCRIPTION,
        formatter_class=common.FORMATTER,
    )
    sub = agent.add_subparsers(dest="agent_command", metavar="AGENT_COMMAND", required=True)
    options = common.options()
    for command in COMMANDS:
        command.register(sub, options)
