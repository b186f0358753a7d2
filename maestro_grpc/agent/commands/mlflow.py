"""`maestro agent mlflow`: an MLflow experiment's runs (MLflow is imported only here)."""

from __future__ import annotations

import argparse
import os
from functools import partial

from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    mlflow = sub.add_parser(
        "mlflow",
        parents=[options],
        help="import an MLflow experiment's runs",
        description=_doc(),
        formatter_class=common.FORMATTER,
    )
    mlflow.add_argument("--experiment", required=True, help="the experiment's name or id")
    mlflow.add_argument("--tracking-uri", help="MLflow tracking URI (default MLFLOW_TRACKING_URI)")
    mlflow.add_argument("--full", action="store_true", help="ignore the cursor: send every run")
    mlflow.set_defaults(handler=handle)


def _doc() -> str:
    from maestro_grpc.agent import mlflow_import

    return mlflow_import.__doc__ or ""


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, "mlflow", partial(collect, args))


def collect(args: argparse.Namespace, emitter: Emitter, settings: AgentSettings) -> Collected:
    from maestro_grpc.agent import mlflow_import

    project = common.project_of(settings)
    uri = args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
    summary, save = mlflow_import.import_experiment(
        tracking_uri=uri,
        experiment=args.experiment,
        project_id=project,
        state_dir=settings.state_dir,
        emit_event=emitter.event,
        emit_point=emitter.point,
        full=args.full,
    )
    return Collected(summary=summary.as_dict(), after_spooled=save)
