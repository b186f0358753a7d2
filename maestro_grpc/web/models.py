"""Page 5, the meta-model: its versions with cross-validated and realised scores, and
each version's feature importances and the candidates it was chosen from."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from maestro.prediction.v1 import meta_model_pb2
from maestro.prediction.v1 import prediction_service_pb2 as ppb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.format import enum_label
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, not_found_page, render

PAGE_SIZE = 50
IMPORTANCES = 15
BAR_WIDTH = 260


def kind_label(value: int) -> str:
    return enum_label(meta_model_pb2.ModelKind, value, "MODEL_KIND_")


async def list_page(request: Request) -> Response:
    answer = await backend(request).prediction.ListMetaModels(
        ppb.ListMetaModelsRequest(
            page_size=PAGE_SIZE, page_token=request.query_params.get("page", "")
        ),
        metadata=metadata(session_token(request)),
        timeout=backend(request).timeout,
    )
    context = {
        "models": list(answer.models),
        "next_url": f"/models?page={answer.next_page_token}" if answer.next_page_token else "",
        "kind_label": kind_label,
    }
    return render(request, "models.html", context)


def serving_label(model: meta_model_pb2.MetaModel) -> str:
    """Whether predictions that name no version may use this one, in words."""
    if not model.serves_by_default:
        return (
            "Does not serve by default: a prediction uses it only when it asks for "
            f"version {model.version} by number; one that names no version uses the newest "
            "version that serves."
        )
    if model.no_skill:
        return (
            "Serves by default although it has no skill, because its training asked for that: "
            "every prediction from it carries the warning."
        )
    return "Serves by default: a prediction that names no version uses it while it is the newest."


def importances(model: meta_model_pb2.MetaModel) -> list[dict[str, Any]]:
    """The most important features, as bars of an SVG chart."""
    top = sorted(model.features, key=lambda f: -f.importance)[:IMPORTANCES]
    widest = max((f.importance for f in top), default=0.0) or 1.0
    return [
        {
            "feature": f,
            "width": max(1.0, round(BAR_WIDTH * f.importance / widest, 1)),
        }
        for f in top
    ]


async def page(request: Request) -> Response:
    raw = request.path_params["version"]
    if not raw.isdigit() or int(raw) < 1:
        return not_found_page(request)
    model = (
        await backend(request).prediction.GetMetaModel(
            ppb.GetMetaModelRequest(version=int(raw)),
            metadata=metadata(session_token(request)),
            timeout=backend(request).timeout,
        )
    ).model
    context = {
        "model": model,
        "bars": importances(model),
        "feature_count": len(model.features),
        "kind_label": kind_label,
        "serving_label": serving_label,
    }
    return render(request, "model.html", context)
