"""The layout's rules (docs/DESIGN.md, "Layout"): imports flow one way, computation stays apart from
presentation, evaluate.py stays a dispatcher, and nothing points outside the repository."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("infra", "classifiers", "inversion")
# Code outside the packages: the experiments, scripts and benchmarks use the library, never the commands.
SCRIPTS = ("experiments", "scripts", "benchmarks")

# Who may not import whom, by module prefix: the dependency direction of docs/DESIGN.md.
# infra <- classifiers <- inversion; inside inversion, model <- training <- inverter <- evaluation,
# baselines and probes (computation) <- commands, which alone also uses presentation.
FORBIDDEN = {
    "infra": ("classifiers", "inversion"),
    "classifiers": ("inversion",),
    "inversion.model": (
        "classifiers",
        "inversion.training",
        "inversion.inverter",
        "inversion.evaluation",
        "inversion.baselines",
        "inversion.probes",
        "inversion.presentation",
        "inversion.commands",
    ),
    "inversion.training": (
        "inversion.inverter",
        "inversion.evaluation",
        "inversion.baselines",
        "inversion.probes",
        "inversion.commands",
    ),
    "inversion.config": ("inversion.training", "inversion.evaluation", "inversion.commands"),
    "inversion.snapshot": ("inversion.training", "inversion.evaluation", "inversion.commands"),
    # The registry of measures: what each number is and how it is shown, shared by computation and
    # presentation, so it depends on neither.
    "inversion.measures": (
        "classifiers",
        "inversion.model",
        "inversion.training",
        "inversion.inverter",
        "inversion.evaluation",
        "inversion.presentation",
        "inversion.commands",
    ),
    "inversion.inverter": (
        "inversion.evaluation",
        "inversion.baselines",
        "inversion.probes",
        "inversion.presentation",
        "inversion.commands",
    ),
    # Computation: numbers and tensors only, never Markdown, HTML or figures.
    "inversion.evaluation": (
        "inversion.presentation",
        "inversion.commands",
        "inversion.probes",
        "matplotlib",
        "markdown",
    ),
    "inversion.baselines": ("inversion.presentation", "inversion.commands", "matplotlib", "markdown"),
    "inversion.probes": ("inversion.presentation", "inversion.commands", "matplotlib", "markdown"),
    # The ONNX export: the generator alone, as the inverter holds it.
    "inversion.onnx_export": ("inversion.evaluation", "inversion.presentation", "inversion.commands"),
    # The explorer page: writes what it is given (exported models, images, logits), computes nothing.
    "inversion.explorer": (
        "classifiers",
        "inversion.model",
        "inversion.training",
        "inversion.inverter",
        "inversion.evaluation",
        "inversion.commands",
    ),
    # Experiments, scripts and benchmarks are built on the library, like any user's code.
    "experiments": ("inversion.commands",),
    "scripts": ("inversion.commands",),
    "benchmarks": ("inversion.commands",),
    # Presentation: shows what it is given, computes nothing of the evaluation's.
    "inversion.presentation": (
        "classifiers",
        "inversion.model",
        "inversion.training",
        "inversion.inverter",
        "inversion.evaluation",
        "inversion.baselines",
        "inversion.probes",
        "inversion.commands",
    ),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES + SCRIPTS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (inside functions too), made absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_imports_flow_one_way():
    violations = []
    for module, path in _modules().items():
        for owner, forbidden in FORBIDDEN.items():
            if not _under(module, owner):
                continue
            for name in _imports(module, path):
                if any(_under(name, f) for f in forbidden):
                    violations.append(f"{module} imports {name}")
    assert not violations, "\n".join(sorted(violations))


def test_only_the_evaluate_command_line_imports_the_commands():
    users = [
        m
        for m, p in _modules().items()
        if not _under(m, "inversion.commands") and any(_under(n, "inversion.commands") for n in _imports(m, p))
    ]
    assert users == ["inversion.cli.evaluate"]


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule above must be able to fail: a relative import out of classifiers into inversion is caught."""
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from ..inversion.model import generator\n    import inversion.config\n")
    names = _imports("classifiers.bad", path)
    assert "inversion.model.generator" in names and "inversion.config" in names


@pytest.mark.parametrize(
    "package, absent", [("classifiers", "inversion"), ("infra", "classifiers"), ("infra", "inversion")]
)
def test_importing_a_lower_package_loads_nothing_above_it(package, absent):
    code = f"import sys, {package}; print(sorted(m for m in sys.modules if m.split('.')[0] == '{absent}'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_folder_of_code_is_scanned():
    """Each folder with Python files (but the tests') is a package or a script folder the rules above read."""
    folders = {p.relative_to(ROOT).parts[0] for p in ROOT.glob("*/**/*.py")} - {"tests", ".venv", "runs", "build"}
    folders = {f for f in folders if not f.startswith(".") and not f.endswith(".egg-info")}
    assert folders <= set(PACKAGES + SCRIPTS), folders - set(PACKAGES + SCRIPTS)
    assert {"experiments.run", "experiments.collect_results", "benchmarks.train_throughput"} <= set(_modules())


def test_no_package_hides_imports_behind_a_module_getattr():
    for module, path in _modules().items():
        tree = ast.parse(path.read_text())
        assert not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body), module


def test_evaluate_py_is_a_thin_dispatcher():
    assert len((ROOT / "evaluate.py").read_text().splitlines()) < 150


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    paths = [ROOT / line for line in listed.stdout.splitlines()]
    return [p for p in paths if p.is_file() and p.suffix in {".py", ".md", ".yaml", ".sh", ".cfg", ".toml", ".txt", ""}]


def test_nothing_refers_to_files_outside_the_repository():
    # Built from pieces so that this file does not match itself; a design document other than
    # docs/DESIGN.md is caught by the regular expression below.
    patterns = [
        "../" + "shared",
        "seeds" + "/",
        "seed " + "00",
        "seed" + "00",
    ]
    other_design = re.compile(r"(?<!docs/)(?<!\()DESIGN" + r"\.md")  # "(DESIGN.md)": a link inside docs/
    hits = []
    for path in _tracked_text_files():
        text = path.read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            hits += [f"{path.relative_to(ROOT)}:{number}: {p}" for p in patterns if p in line]
            if other_design.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: a design document other than docs/DESIGN.md")
    assert not hits, "\n".join(hits)


def test_no_package_registry_host_is_named():
    """Packages come through their clients (pip, apt-get, npm) with the user's own settings; the repository
    names no registry's host."""
    hosts = ["registry." + "npmjs.org", "pypi" + ".org", "files." + "pythonhosted.org", "deb." + "debian.org"]
    hits = [
        f"{path.relative_to(ROOT)}: {host}"
        for path in _tracked_text_files()
        for host in hosts
        if host in path.read_text(errors="replace")
    ]
    assert not hits, "\n".join(hits)
