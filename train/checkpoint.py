"""Orbax checkpoints: train state (params, optimizer state, step) plus input position.

Each checkpoint is a step directory with two items:

    state/  the train-state pytree (orbax's standard, sharded array format)
    meta/   JSON: step, input position (examples consumed), skipped ranges

Saves are asynchronous where orbax allows (arrays are copied off the devices
before ``save`` returns; files are written in the background) and only the
last ``keep`` complete checkpoints stay. Orbax writes into a temporary
directory and renames it when done, so an interrupted save is never listed.
A checkpoint that is listed but does not restore (files lost or damaged) is
reported with a warning and the next older one is used instead.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import orbax.checkpoint as ocp

log = logging.getLogger(__name__)


class Checkpoints:
    def __init__(self, directory: str, keep: int = 3, async_save: bool = True):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep,
            enable_async_checkpointing=async_save,
            create=True,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "meta"))

    def steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: Any, meta: dict) -> None:
        """Starts saving ``state`` and ``meta`` as checkpoint ``step`` (waits for the previous save)."""
        self._manager.save(
            step,
            args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
            force=True,
        )

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def restore(self, abstract_state: Any, at_most: int | None = None) -> tuple[Any, dict] | None:
        """The newest checkpoint (with step <= ``at_most``) that restores completely, or None.

        ``abstract_state`` gives the tree structure, shapes, dtypes and shardings.
        Damaged checkpoints are skipped with a warning.
        """
        self.wait()
        for step in reversed(self.steps()):
            if at_most is not None and step > at_most:
                continue
            try:
                restored = self._manager.restore(
                    step,
                    args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()),
                )
                meta = dict(restored["meta"])
                if meta.get("step") != step:
                    raise ValueError(f"meta says step {meta.get('step')}")
            except Exception as exc:  # orbax raises many types for missing/damaged files
                message = f"checkpoint {step} in {self.directory} is incomplete or corrupt ({type(exc).__name__}: {str(exc)[:200]}); trying an older one"
                warnings.warn(message, RuntimeWarning, stacklevel=2)
                log.warning(message)
                continue
            return restored["state"], meta
        return None

    def restore_params(self, abstract_params: Any, step: int | None = None) -> tuple[Any, int]:
        """Only the parameters (``state['params']``) of checkpoint ``step`` (default: latest)."""
        self.wait()
        steps = self.steps()
        if not steps:
            raise FileNotFoundError(f"no checkpoints in {self.directory}")
        step = steps[-1] if step is None else step
        path = os.path.join(self.directory, str(step), "state")
        restored = ocp.PyTreeCheckpointer().restore(
            path,
            args=ocp.args.PyTreeRestore(
                item={"params": abstract_params},
                restore_args=ocp.checkpoint_utils.construct_restore_args({"params": abstract_params}),
                partial_restore=True,
            ),
        )
        return restored["params"], step

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()
