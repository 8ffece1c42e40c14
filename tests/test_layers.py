"""The package's layers: no module imports a module that imports it, and synthesis stands alone."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import tts_service

PACKAGE = Path(tts_service.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of other tts_service modules: every import statement, TYPE_CHECKING ones too.
    ``from a import b`` counts as importing ``a`` (and ``a.b`` when that is a module)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                # A module reaching into its own package's __init__ is how packages work, not a cycle.
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each a path that comes back to where it started."""
    found, state = [], dict.fromkeys(graph, 0)  # 0 unseen, 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state[nxt] == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [node])
    return found


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert "tts_service.planning" in graph["tts_service.pipeline"]  # the graph is really read
    assert cycles(graph) == []


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_lower_layers_do_not_reach_up() -> None:
    """Text and audio code is pure: it imports only itself and the shared errors and LRU; nothing below web/
    imports web/."""
    graph = import_graph()
    pure = ("tts_service.text", "tts_service.audio", "tts_service.errors", "tts_service.lru")
    for name, imports in graph.items():
        if name.startswith(pure[:2]):
            assert all(i.startswith(pure) for i in imports), (name, imports)
        if not name.startswith("tts_service.web") and name != "tts_service.cli":
            assert not any(i.startswith("tts_service.web") for i in imports), name


def test_the_synthesizer_runs_without_the_web_app_or_the_scheduler(tmp_path: Path) -> None:
    """What a worker process of its own will do: plan a text and synthesise it, and nothing else loaded."""
    script = textwrap.dedent(f"""
        import asyncio, sys
        from pathlib import Path
        from tts_service.cache import AudioCache
        from tts_service.config import Settings
        from tts_service.engines import EngineRegistry
        from tts_service.planning import Planner
        from tts_service.store import Store
        from tts_service.synthesis import Synthesizer

        async def main():
            settings = Settings(home=Path({str(tmp_path)!r}), engine="espeak")
            store = Store(settings.db_path)
            engines = EngineRegistry(settings)
            planner = Planner(engines, store, None, 1 << 20)
            synthesizer = Synthesizer(store, AudioCache(settings.cache_dir), engines, slots=1)
            plan = await planner.plan_text("独立的合成。第二句。", None, None)
            audio = [await synthesizer.chunk_audio(plan, chunk) for chunk in plan.spoken]
            await synthesizer.aclose(grace=1)
            engines.close()
            store.close()
            return audio

        audio = asyncio.run(main())
        assert len(audio) == 2 and all(len(a) > 1000 for a in audio), [len(a) for a in audio]
        watched = ("fastapi", "starlette")
        loaded = sorted(m for m in sys.modules if m.startswith("tts_service.") or m in watched)
        print("\\n".join(loaded))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "tts_service.synthesis" in loaded
    for absent in ("tts_service.pipeline", "tts_service.generation", "tts_service.web", "fastapi"):
        assert absent not in loaded, absent
