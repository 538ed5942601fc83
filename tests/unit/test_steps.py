"""The catalogue of steps (reasoner/semantics/steps.py): every entry is an action of the AWS catalogue on the resource
type it names, cites an AWS page, and the modelled and unmodelled lists do not overlap; every resource type with a
resource-based policy has a step that writes it; docs/eventually.md lists every entry."""

from __future__ import annotations

from pathlib import Path

from reasoner.semantics import catalog
from reasoner.semantics.resources import POLICY_TYPES, SHARED_BY_ATTRIBUTE, action_resource_types
from reasoner.semantics.steps import CODE_SERVICES, STEPS, UNMODELLED, Effect, steps_on

DOC = Path(__file__).resolve().parents[2] / "docs" / "eventually.md"


def test_every_step_is_a_catalogue_action_on_its_type() -> None:
    for step in STEPS:
        assert catalog.canonical_action(step.action) == step.action, step
        assert step.on[1] in action_resource_types(step.action), step
        assert step.source.startswith("https://docs.aws.amazon.com/"), step


def test_unmodelled_steps_are_catalogue_actions_and_not_modelled() -> None:
    modelled = {s.action for s in STEPS}
    for u in UNMODELLED:
        assert catalog.canonical_action(u.action) == u.action, u
        assert u.action not in modelled
        assert u.source.startswith("https://docs.aws.amazon.com/") and u.reason


def test_code_services_start_with_a_catalogue_action() -> None:
    for svc in CODE_SERVICES:
        assert catalog.canonical_action(svc.start) == svc.start
        assert svc.principal.endswith(".amazonaws.com")


def test_every_policy_type_has_a_writing_step() -> None:
    writes = {Effect.REPLACE_RESOURCE_POLICY, Effect.ADD_RESOURCE_STATEMENT, Effect.SHARE, Effect.GRANT,
              Effect.REPLACE_TRUST_POLICY}
    for service, rtype in POLICY_TYPES:
        if (service, rtype) in (("lambda", "function alias"), ("lambda", "function version")):
            continue  # governed by the function's policy (lambda:AddPermission on the function)
        effects = {s.effect for s in steps_on(service, rtype)}
        if (service, rtype) in SHARED_BY_ATTRIBUTE:
            assert Effect.SHARE in effects, (service, rtype)
        else:
            assert effects & writes, (service, rtype)


def test_the_docs_list_every_step() -> None:
    text = DOC.read_text(encoding="utf-8")
    for action in {s.action for s in STEPS} | {u.action for u in UNMODELLED} | {c.start for c in CODE_SERVICES}:
        assert f"`{action}`" in text, action
