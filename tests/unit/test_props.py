"""Property language: parsing, error reporting and compilation to property values (reasoner/language/property_files.py).

Every claim form is checked against the property value it must produce, field by field; the language adds
no semantics, so these tests are the whole contract of the compiler. Environments are real manifests
(`examples/org`, `examples/seed`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.analyses.properties import (
    AccessNotGranted,
    CanAccess,
    Equivalent,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
)
from reasoner.errors import InputError
from reasoner.language import property_files as props
from reasoner.semantics.environment import Environment

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
SEED = ROOT / "examples" / "seed"
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AUDIT = "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
ADMIN = "arn:aws:iam::111122223333:role/KeyAdmin"


@pytest.fixture(scope="module")
def compiler() -> props.Compiler:
    return props.Compiler()


def compile_text(compiler: props.Compiler, text: str) -> tuple[props.Assertion, ...]:
    return compiler.compile_text(f'environment "environment.yaml"\n{text}', "t.access", base_dir=ORG)


def one(compiler: props.Compiler, claim: str) -> object:
    (a,) = compile_text(compiler, f"assert: {claim}")
    return a.property


# ---- every claim form -> its property value ----------------------------------------------------------


def test_no_principal_outside_account(compiler: props.Compiler) -> None:
    prop = one(compiler, f"no principal outside account 111122223333 can kms:Decrypt on key {APP}")
    assert prop == AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",), (APP,))


def test_outside_several_accounts_and_any_key(compiler: props.Compiler) -> None:
    prop = one(compiler, "nobody outside accounts [111122223333, 444455556666] can [kms:Decrypt,kms:Encrypt]")
    assert prop == AccessNotGranted(PrincipalScope.outside_account("111122223333", "444455556666"),
                                    ("kms:Decrypt", "kms:Encrypt"), ("*",))


def test_outside_organization(compiler: props.Compiler) -> None:
    prop = one(compiler, "no principal outside organization o-a1b2c3d4e5 can anything on all keys")
    assert prop == AccessNotGranted(PrincipalScope.outside_organization("o-a1b2c3d4e5"), ("*",),
                                    ("type:AWS::KMS::Key",))


def test_no_principal_at_all(compiler: props.Compiler) -> None:
    prop = one(compiler, "no principal can kms:ScheduleKeyDeletion on any key")
    assert prop == AccessNotGranted(PrincipalScope(ScopeKind.ANY), ("kms:ScheduleKeyDeletion",),
                                    ("type:AWS::KMS::Key",))


def test_none_of(compiler: props.Compiler) -> None:
    prop = one(compiler, "none of [arn:aws:iam::444455556666:role/Analytics, 444455556666]\n"
                         "  can kms:PutKeyPolicy")
    assert prop == AccessNotGranted(
        PrincipalScope(ScopeKind.PRINCIPALS, ("arn:aws:iam::444455556666:role/Analytics", "444455556666")),
        ("kms:PutKeyPolicy",), ("*",))


def test_only(compiler: props.Compiler) -> None:
    prop = one(compiler, f"only [{ADMIN}, 111122223333] can [kms:ScheduleKeyDeletion]\n"
                         f" on keys [{APP}, {AUDIT}]")
    assert prop == OnlyPrincipalsCan((ADMIN, "111122223333"), ("kms:ScheduleKeyDeletion",), (APP, AUDIT))


def test_can_access_is_the_lockout_guard(compiler: props.Compiler) -> None:
    prop = one(compiler, f"{ADMIN} can [kms:PutKeyPolicy, kms:DescribeKey] on key {APP}")
    assert prop == CanAccess(ADMIN, ("kms:PutKeyPolicy", "kms:DescribeKey"), (APP,))


def test_no_new_access_and_equivalent(compiler: props.Compiler) -> None:
    a, b = compile_text(compiler, '''
        environment proposed = "proposed/environment.yaml"
        assert: proposed grants no new access over this for kms:Decrypt on key alias/app-data
        assert: environment "proposed/environment.yaml" is equivalent to environment "environment.yaml"
    ''')
    assert a.environment.source is not None and a.environment.source.endswith("proposed/environment.yaml")
    assert isinstance(a.property, NoNewAccess)
    assert a.property.old.source is not None and a.property.old.source.endswith("org/environment.yaml")
    assert (a.property.actions, a.property.resources) == (("kms:Decrypt",), (APP,))
    assert isinstance(b.property, Equivalent)
    assert b.environment is a.environment  # each manifest is loaded once per compiler
    assert b.property.old is a.property.old
    assert (b.property.actions, b.property.resources) == (("*",), ("*",))


def test_key_policy_comparisons(compiler: props.Compiler) -> None:
    a, b = compile_text(compiler, '''
        assert: key policy "proposed/keys/app-data.json" grants no new access over this on key alias/app-data
        assert: key policy "proposed/keys/app-data.json" is equivalent to key policy "keys/app-data.json"
            for kms:Decrypt on key alias/app-data
    ''')
    current = a.property.old  # type: ignore[attr-defined]
    assert isinstance(a.property, NoNewAccess) and a.property.resources == (APP,)
    new_key, old_key = a.environment.key(APP), current.key(APP)
    assert new_key is not None and old_key is not None
    assert new_key.policy.id is not None and new_key.policy.id.text == "app-data-key-policy-proposed"
    assert old_key.policy.id is not None and old_key.policy.id.text == "app-data-key-policy"
    assert a.environment.key(AUDIT) is current.key(AUDIT)  # every other key is shared
    assert a.environment.principals is current.principals
    assert isinstance(b.property, Equivalent) and b.property.actions == ("kms:Decrypt",)
    assert b.environment is a.environment  # one environment per (policy file, key, base environment)
    b_old = b.property.old.key(APP)
    assert b_old is not None and b_old.policy.id is not None and b_old.policy.id.text == "app-data-key-policy"


@pytest.mark.parametrize(("claim", "code"), [
    ('key policy "keys/app-data.json" grants no new access over this', "PROP009"),
    ('key policy "keys/app-data.json" grants no new access over this on all keys', "PROP009"),
    ('key policy "keys/nope.json" grants no new access over this on key alias/app-data', "PROP010"),
    ('key policy "iam/444455556666/intern.json" is equivalent to this on key alias/app-data', "PROP009"),
    ("key policy app_data is equivalent to this on key alias/app-data", "PROP009"),
])
def test_key_policy_comparison_errors(compiler: props.Compiler, claim: str, code: str) -> None:
    with pytest.raises(props.PropertyError) as info:
        one(compiler, claim)
    assert info.value.code == code


def test_actions_are_canonicalised_and_patterns_kept(compiler: props.Compiler) -> None:
    prop = one(compiler, 'no principal can [KMS:decrypt, kms:GenerateDataKey*, "kms:ReEncrypt*", *]')
    assert isinstance(prop, AccessNotGranted)
    assert prop.actions == ("kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "*")


def test_keys_by_alias_id_and_pattern(compiler: props.Compiler) -> None:
    prop = one(compiler, 'no principal can kms:Decrypt on keys ["alias/app-data", '
                         '"0987dcba-09fe-87dc-65ba-ab0987654321", arn:aws:kms:us-east-1:111122223333:key/*]')
    assert isinstance(prop, AccessNotGranted)
    assert prop.resources == (APP, AUDIT, "arn:aws:kms:us-east-1:111122223333:key/*")


def test_lets_includes_names_and_modifiers(tmp_path: Path, compiler: props.Compiler) -> None:
    (tmp_path / "common.access").write_text(
        f'environment "{ORG / "environment.yaml"}"\nlet admins = [{ADMIN}]\nlet home = 111122223333\n')
    main = tmp_path / "main.access"
    main.write_text('include "common.access"\n'
                    '# a comment\n'
                    'assert "admins" allowing unknown within 5 seconds: admins can kms:PutKeyPolicy\n'
                    'assert: no principal outside account home can kms:Decrypt  # trailing comment\n')
    a, b = props.Compiler(root="/").compile_file(main)  # the manifest lies outside tmp_path: widen the root
    assert (a.name, a.allow_unknown, a.timeout) == ("admins", True, 5.0)
    assert a.property == CanAccess(ADMIN, ("kms:PutKeyPolicy",), ("*",))
    assert a.span.file == str(main) and (a.span.line, a.span.col) == (3, 1)
    assert b.name == "no principal outside account home can kms:Decrypt" and not b.named
    assert (b.allow_unknown, b.timeout) == (False, None)
    assert b.property == AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",))


def test_sessions_of_declared_roles_are_known(compiler: props.Compiler) -> None:
    prop = one(compiler, "arn:aws:sts::111122223333:assumed-role/KeyAdmin/alice can kms:DescribeKey")
    assert prop == CanAccess("arn:aws:sts::111122223333:assumed-role/KeyAdmin/alice", ("kms:DescribeKey",))
    with pytest.raises(props.PropertyError) as info:
        one(compiler, "arn:aws:sts::111122223333:assumed-role/Nobody/alice can kms:DescribeKey")
    assert info.value.code == "PROP005"


def test_examples_compile() -> None:
    files = props.find_property_files([ORG / "checks", ORG / "failing", ROOT / "examples" / "seed.access"])
    names = [a.name for f in files for a in props.compile_file(f)]
    assert "key admins keep control of every key" in names
    assert "no principal outside the security account decrypts app data" in names
    assert "only the two accounts of the scenario can use the keys" in names


def test_seed_environment_claim() -> None:
    from reasoner.front.manifest import load_environment

    env = load_environment(SEED / "environment.yaml")
    prop = props.parse_property("no principal outside account 111122223333 can kms:Decrypt on key "
                                '"alias/seed-shared"', env)
    assert prop == AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",),
                                    ("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",))


def test_this_in_a_lone_claim(compiler: props.Compiler) -> None:
    from reasoner.front.manifest import load_environment

    new = load_environment(ORG / "proposed" / "environment.yaml")
    old = load_environment(ORG / "environment.yaml")
    got_env, prop = compiler.compile_claim("this grants no new access over old", new,
                                           environments={"old": old})
    assert got_env is new
    assert prop == NoNewAccess(old)
    with pytest.raises(props.PropertyError) as info:
        props.parse_property("old grants no new access over this", new, environments={"old": old})
    assert info.value.code == "PROP009"


# ---- errors: file:line:col, caret, hint, stable code --------------------------------------------------


def error_of(compiler: props.Compiler, text: str) -> props.PropertyError:
    with pytest.raises(props.PropertyError) as info:
        compile_text(compiler, text)
    return info.value


@pytest.mark.parametrize(("text", "code", "where", "hint"), [
    ('assert "x" no principal can kms:Decrypt', "PROP001", (2, 12), "put a `:` after the name"),
    ("assert: no principal outside account 111122223333 kms:Decrypt", "PROP001", (2, 51), "WHO can"),
    ("assert: only ['a'] can kms:Decrypt", "PROP001", (2, 15), "double quotes"),
    ("no principal can kms:Decrypt", "PROP001", (2, 1), '`assert ["NAME"]: CLAIM`'),
    ("assert: nobody can kms:Decrypt on key", "PROP001", (2, 37), None),
    ("assert: nobody can kms:Decrypt on key alias", "PROP002", (2, 39), "let NAME"),
    ("let admins = [1]\nassert: admns can kms:Decrypt", "PROP002", (3, 9), "did you mean `admins`?"),
    ("assert: nobody can kms:Decrypr", "PROP003", (2, 20), "did you mean `kms:Decrypt`"),
    ("assert: nobody can kns:Decrypt", "PROP003", (2, 20), "`kms`"),
    ("assert: nobody can kms:Frobnicate*", "PROP003", (2, 20), None),
    (f"assert: nobody can kms:Decrypt on key {APP[:-1]}c", "PROP004", (2, 39), f"did you mean `{APP}`?"),
    ('assert: nobody can kms:Decrypt on key "alias/nope"', "PROP004", (2, 39), "keys of the environment"),
    ("assert: arn:aws:iam::111122223333:role/KeyAdmn can kms:Decrypt", "PROP005", (2, 9),
     f"did you mean `{ADMIN}`"),
    ("assert: no principal outside account 1111 can kms:Decrypt", "PROP009", (2, 38), "12 digits"),
    ("assert: no principal outside organization o-zzzzzzzzzz can kms:Decrypt", "PROP002", (2, 43),
     "o-a1b2c3d4e5"),
    ('assert: nobody can kms:Decrypt on key "s3:GetObject"', "PROP004", (2, 39), None),
    ("assert: kms:Decrypt can kms:Decrypt", "PROP009", (2, 9), "IAM or STS ARN"),
    (f"assert: [{ADMIN}, 111122223333] can kms:Decrypt", "PROP001", (2, 9), None),
    ('assert: old grants no new access over this', "PROP002", (2, 9), "environment NAME"),
    ('assert: "nope.yaml" grants no new access over this', "PROP010", (2, 9), "relative to the property"),
    ('assert "a": nobody can kms:Decrypt\nassert "a": nobody can kms:Encrypt', "PROP008", (3, 1), "unique"),
    ('let x = [kms:Decrypt]\nlet x = [kms:Encrypt]', "PROP008", (3, 1), None),
])
def test_errors_point_at_the_culprit(compiler: props.Compiler, text: str, code: str,
                                     where: tuple[int, int], hint: str | None) -> None:
    err = error_of(compiler, text)
    assert isinstance(err, InputError)
    assert err.code == code
    assert err.span is not None and (err.span.file, err.span.line, err.span.col) == ("t.access", *where)
    rendered = str(err)
    assert rendered.startswith(f"t.access:{where[0]}:{where[1]}: error: {code} ")
    lines = rendered.splitlines()
    assert lines[1].startswith(f"{where[0]} | ") and "^" in lines[2]
    caret_col = lines[2].index("^") - lines[2].index("|") - 1
    assert caret_col == where[1]
    if hint is not None:
        assert err.help is not None and hint in err.help


def test_syntax_error_is_a_syntax_error(compiler: props.Compiler) -> None:
    err = error_of(compiler, "assert nobody can kms:Decrypt")
    assert isinstance(err, props.PropertySyntaxError) and isinstance(err, SyntaxError)


def test_missing_environment() -> None:
    with pytest.raises(props.PropertyError) as info:
        props.Compiler().compile_text("assert: nobody can kms:Decrypt", "t.access")
    assert info.value.code == "PROP007" and "environment" in (info.value.help or "")


def test_include_cycle_and_missing_include(tmp_path: Path) -> None:
    (tmp_path / "a.access").write_text('include "b.access"\n')
    (tmp_path / "b.access").write_text('include "a.access"\n')
    with pytest.raises(props.PropertyError) as info:
        props.compile_file(tmp_path / "a.access")
    assert info.value.code == "PROP006"
    assert info.value.span is not None and info.value.span.file == str(tmp_path / "b.access")
    (tmp_path / "c.access").write_text('\ninclude "missing.access"\n')
    with pytest.raises(props.PropertyError) as info:
        props.compile_file(tmp_path / "c.access")
    assert info.value.code == "PROP010" and info.value.span is not None and info.value.span.line == 2


def test_a_file_included_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "d.access").write_text(f'environment "{ORG / "environment.yaml"}"\nlet x = kms:Decrypt\n'
                                       'assert "in d": nobody can x\n')
    (tmp_path / "b.access").write_text('include "d.access"\n')
    (tmp_path / "c.access").write_text('include "d.access"\nassert "in c": nobody can x\n')
    (tmp_path / "a.access").write_text('include "b.access"\ninclude "c.access"\n')
    assert [a.name for a in props.compile_file(tmp_path / "a.access", root="/")] == ["in d", "in c"]


def test_manifest_errors_pass_through(tmp_path: Path) -> None:
    (tmp_path / "environment.yaml").write_text("keys: [{arn: nope, policy: k.json}]\n")
    (tmp_path / "t.access").write_text('environment "environment.yaml"\n')
    with pytest.raises(InputError) as info:
        props.compile_file(tmp_path / "t.access")
    assert info.value.code.startswith("ENV")


def test_custom_loader_is_used(tmp_path: Path) -> None:
    seen: list[Path] = []

    def load(path: Path) -> Environment:
        seen.append(path)
        return Environment(source=str(path))

    (tmp_path / "e.yaml").write_text("")
    (tmp_path / "t.access").write_text('environment "e.yaml"\nassert: nobody can kms:Decrypt\n'
                                       'environment "./e.yaml"\nassert: nobody can kms:Encrypt\n')
    a, b = props.compile_file(tmp_path / "t.access", load_environment=load)
    assert seen == [tmp_path / "e.yaml"] and a.environment is b.environment


def test_unnamed_duplicates_get_line_numbers(compiler: props.Compiler) -> None:
    a, b = compile_text(compiler, "assert: nobody can kms:Decrypt\nassert: nobody can kms:Decrypt")
    assert a.name == "nobody can kms:Decrypt" and b.name == "nobody can kms:Decrypt (line 3)"


def test_find_property_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    for name in ("d/b.access", "d/a.access", "d/x.props", "top.access"):
        (tmp_path / name).write_text("")
    found = props.find_property_files([tmp_path / "d", tmp_path / "top.access", tmp_path / "d"])
    assert found == [tmp_path / "d/a.access", tmp_path / "d/b.access", tmp_path / "top.access"]


# ---- property-based: layout never matters, errors are always PropertyErrors --------------------------

ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:PutKeyPolicy", "*"]
PRINCIPALS = [ADMIN, "arn:aws:iam::111122223333:role/AppRole", "111122223333", "cloudtrail.amazonaws.com"]
KEYS = [APP, AUDIT]


def _list_text(items: list[str], sep: st.SearchStrategy[str], draw: st.DrawFn) -> str:
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return "[" + draw(sep).join(items) + ("," if draw(st.booleans()) else "") + "]"


@st.composite
def claims(draw: st.DrawFn) -> tuple[str, object]:
    """A claim written with random layout, lists and comments, and the property value it must compile to."""
    gap = st.sampled_from([" ", "  ", "\n", "\n    ", " # note\n  ", "\t"])
    sep = st.sampled_from([", ", ",", " ,\n  ", ",  # why\n "])
    actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True))
    keys = draw(st.one_of(st.none(), st.lists(st.sampled_from(KEYS), min_size=1, max_size=2, unique=True)))
    g = lambda: draw(gap)  # noqa: E731
    on = ""
    if keys is not None:
        on = f"{g()}on{g()}key{'s' if len(keys) > 1 else ''}{g()}{_list_text(keys, sep, draw)}"
    tail = f"can{g()}{_list_text(actions, sep, draw)}{on}"
    resources = tuple(keys) if keys else ("*",)
    kind = draw(st.sampled_from(["outside", "only", "can", "none"]))
    if kind == "outside":
        accounts = draw(st.lists(st.sampled_from(["111122223333", "444455556666"]), min_size=1, unique=True))
        word = draw(st.sampled_from(["account", "accounts"]))
        text = f"no{g()}principal{g()}outside{g()}{word}{g()}{_list_text(accounts, sep, draw)}{g()}{tail}"
        return text, AccessNotGranted(PrincipalScope.outside_account(*accounts), tuple(actions), resources)
    principals = draw(st.lists(st.sampled_from(PRINCIPALS), min_size=1, max_size=3, unique=True))
    if kind == "only":
        text = f"only{g()}{_list_text(principals, sep, draw)}{g()}{tail}"
        return text, OnlyPrincipalsCan(tuple(principals), tuple(actions), resources)
    if kind == "none":
        text = f"none{g()}of{g()}{_list_text(principals, sep, draw)}{g()}{tail}"
        return text, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, tuple(principals)), tuple(actions),
                                      resources)
    return f"{principals[0]}{g()}{tail}", CanAccess(principals[0], tuple(actions), resources)


@given(claims())
def test_layout_never_changes_the_property(compiler: props.Compiler, case: tuple[str, object]) -> None:
    text, expected = case
    (a,) = compile_text(compiler, f"assert \"x\":{text}\n")
    assert a.property == expected


@given(st.text(alphabet=st.sampled_from(list('assert"x:nobody can kms:Decrypt on key[,]# \n*-o1l=y')),
               max_size=60))
def test_any_text_parses_or_raises_a_property_error(text: str) -> None:
    try:
        props.parse_text(text, "f.access")
    except props.PropertySyntaxError as exc:
        assert exc.span is not None and exc.span.file == "f.access"
        assert str(exc).startswith(f"f.access:{exc.span.line}:{exc.span.col}: error: PROP001 ")


def test_parse_file_keeps_statements_and_spans() -> None:
    parsed = props.parse_file(ORG / "checks" / "keys.access")
    kinds = [type(s).__name__ for s in parsed.statements]
    assert kinds == ["Include", "AssertStmt", "AssertStmt", "AssertStmt", "AssertStmt"]
    first = parsed.statements[1]
    assert isinstance(first, props.AssertStmt) and first.claim.kind == "no_access"
    assert (first.span.line, first.span.col, first.claim.span.line) == (4, 1, 5)
    with pytest.raises(props.PropertyError) as info:
        props.parse_file(ORG / "checks" / "missing.access")
    assert info.value.code == "PROP010"
