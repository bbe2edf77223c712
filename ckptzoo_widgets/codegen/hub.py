"""Load code for models loaded by name from a hub: the project's own ``cz.load`` and transformers'
``from_pretrained`` (an Auto class per task, from our own table)."""

from __future__ import annotations

from ..schema import Checkpoint, ModelEntry
from .snippets import (
    BUILTIN,
    _call,
    _ref,
    _snippet,
    variable_name,
)

# pipeline_tag -> transformers Auto class. Our own table: a class name is code,
# so it never comes from the index.
AUTO_CLASSES = {
    "text-generation": "AutoModelForCausalLM",
    "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "summarization": "AutoModelForSeq2SeqLM",
    "translation": "AutoModelForSeq2SeqLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
    "audio-classification": "AutoModelForAudioClassification",
}


def ckptzoo_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    zoo = None if model.source in ("", BUILTIN) else model.source
    name = variable_name(model, checkpoint)
    # The bare name on the last line: running the cell shows what was loaded (ref, file, sha256).
    return _snippet(
        "import ckptzoo_widgets as cz",
        "",
        f"{name} = {_call('cz.load', _ref(model, checkpoint), zoo=zoo)}",
        name,
    )


def transformers_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    auto_class = AUTO_CLASSES.get(model.task or "", "AutoModel")
    name = variable_name(model, checkpoint)
    loaded = _call(f"{auto_class}.from_pretrained", model.repo, revision=checkpoint.revision or "main")
    return _snippet(f"from transformers import {auto_class}", "", f"{name} = {loaded}")
