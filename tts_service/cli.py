"""Command line: serve, add, delete, import, seed, pregen, crawl, publish, prune, synth, normalize, pinyin,
lexicon, cache; db and migrate (cli_db); worker (cli_worker); keys (cli_keys); voices (cli_voices)."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.progress import Progress, TaskID

from tts_service import resources
from tts_service.article import Article, draft_from
from tts_service.cli_db import db_app, migrate
from tts_service.cli_errors import user_errors
from tts_service.cli_help import Group
from tts_service.cli_keys import keys_app
from tts_service.cli_proof import proof
from tts_service.cli_voices import voices_app
from tts_service.cli_worker import worker
from tts_service.config import Settings
from tts_service.engines import Prosody, Synthesis, parse_rate
from tts_service.errors import Conflict, InvalidInput, SlugTaken, TTSError
from tts_service.jobs import Job
from tts_service.planning import spoken_form
from tts_service.publishing.watch import POLL_SECONDS
from tts_service.services import Services, open_services
from tts_service.states import JobStatus
from tts_service.text import marks, readings, textfile
from tts_service.text.document import Document, parse_document
from tts_service.text.lexicon import Lexicon, LexiconEntry
from tts_service.text.pinyin import Syllable, lexicon_tokens
from tts_service.text.pinyin import explain as explain_readings
from tts_service.utterance import say

if TYPE_CHECKING:
    from tts_service.crawl.pages import Outcome as CrawlOutcome
    from tts_service.publishing import Published

app = typer.Typer(
    cls=Group, help="tts_service: Mandarin read-aloud (语音播报) for articles.", no_args_is_help=True
)
T = TypeVar("T")
DEMO_SLUG = "demo"


def _run(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``work`` with the services over the configured home; TTSErrors become a message and exit 1."""
    settings = Settings()

    async def main() -> T:
        async with open_services(settings) as services:
            return await work(services)

    with user_errors():
        return asyncio.run(main())


_HOST, _PORT = Settings.model_fields["host"].default, Settings.model_fields["port"].default


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help=f"Address to listen on. Default: TTS_HOST, else {_HOST}.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help=f"Port to listen on. Default: TTS_PORT, else {_PORT}.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web processes on the one socket (uvicorn's supervisor restarts any that dies). Not"
            " TTS_WORKERS, which is synthesis and jobs within each process.",
        ),
    ] = 1,
) -> None:
    """Serve the reader pages and the API."""
    settings = Settings()
    if workers == 1:  # one process, as always
        from tts_service.web.server import serve as run_server

        run_server(settings, host, port)
        return
    from tts_service.web.processes import serve_processes

    serve_processes(settings, host or settings.host, port or settings.port, workers)


def _save(doc: Document, slug: str | None, title: str | None = None, *, replace: bool = False) -> str:
    """Store a document as a new article, or (``replace``) as the next revision of the article with its
    slug; return the slug. Without ``replace``, a slug in use is an error, never a silent overwrite."""
    draft = draft_from(doc, slug=slug, title=title)

    async def work(services: Services) -> str:
        try:
            return (await services.pipeline.save(draft, must_be_new=not replace)).slug
        except SlugTaken as exc:
            raise Conflict(f"{exc.message}; add --replace to make this its next revision") from None

    return _run(work)


_REPLACE = typer.Option("--replace", help="If the slug is in use, make this that article's next revision.")


@app.command()
def add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    slug: Annotated[str | None, typer.Option(help="URL name; made from the title if omitted.")] = None,
    title: Annotated[str | None, typer.Option(help="Title; the file's first line if omitted.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="The file's encoding; default: UTF-8, else GB18030 (GBK).")
    ] = None,
    replace: Annotated[bool, _REPLACE] = False,
) -> None:
    """Add an article from a plain-text or Markdown file (first line = title); prints its slug."""
    with user_errors():
        doc = parse_document(textfile.decode(file.read_bytes(), encoding))
        typer.echo(_save(doc, slug, title, replace=replace))


@app.command()
def delete(
    slug: Annotated[str, typer.Argument(help="The article to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an article with all its revisions and jobs (asks first); its audio goes at `cache gc`."""

    async def count(services: Services) -> tuple[str, int]:
        article = await services.store.get_article(slug)
        return article.title, await services.store.revision_count(slug)

    async def remove(services: Services) -> None:
        await services.pipeline.delete(slug)  # stops its jobs first

    title, revisions = _run(count)  # a missing article is an error before anything is asked
    if not yes and not typer.confirm(
        f"Delete the article {slug!r} ({title}) and its {revisions} revision(s)?"
    ):
        typer.echo(f"kept: {slug}", err=True)
        raise typer.Exit(1)
    _run(remove)
    typer.echo(f"deleted: {slug}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    slug: Annotated[str | None, typer.Option(help="URL name; made from the title if omitted.")] = None,
    replace: Annotated[bool, _REPLACE] = False,
) -> None:
    """Import a saved article page (HTML or scraped text): title, byline, date and body, no chrome."""
    from tts_service.text.extract import extract

    with user_errors():
        typer.echo(_save(extract(file.read_bytes(), filename=file.name), slug, replace=replace))


@app.command()
def seed() -> None:
    """Add the demo article unless it is already there."""

    async def exists(services: Services) -> bool:
        return DEMO_SLUG in {a.slug for a in await services.store.list_articles()}

    if _run(exists):
        typer.echo(f"demo article present: {DEMO_SLUG}")
    else:
        doc = parse_document(resources.demo_article())
        typer.echo(f"added demo article: {_save(doc, DEMO_SLUG)}")


@app.command()
def pregen(
    slugs: Annotated[list[str] | None, typer.Argument(help="Articles to generate audio for.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every article.")] = False,
) -> None:
    """Synthesise and cache the audio of articles ahead of time, as jobs (an interrupted job resumes)."""
    if bool(slugs) == all_:
        typer.echo("error: give article slugs or --all (not both)", err=True)
        raise typer.Exit(2)

    async def work(services: Services) -> list[Job]:
        store, pipeline = services.store, services.pipeline
        articles = await store.list_articles() if all_ else [await store.get_article(s) for s in slugs or []]
        finished = []
        with Progress() as progress:
            for article in articles:
                bar = progress.add_task(article.slug, total=None)

                def update(done: int, total: int, bar: TaskID = bar) -> None:
                    progress.update(bar, completed=done, total=total)

                job = await pipeline.start(article, on_progress=update)
                while (job := await pipeline.wait(job, update)).active:
                    job = await pipeline.start(article, on_progress=update)  # its process died: take it over
                progress.update(bar, description=f"{article.slug} [{job.status}]")
                finished.append(job)
        return finished

    jobs = _run(work)
    for job in jobs:
        note = f" — {job.error}" if job.error else (f" — {job.fallback}" if job.fallback else "")
        typer.echo(f"job {job.id} {job.slug}: {job.status}, {job.done}/{job.total} chunks{note}")
    if any(job.status == JobStatus.FAILED for job in jobs):
        raise typer.Exit(1)


class _CrawlBars:
    """A crawl's progress bars: the pages reached, and the chunks of audio made over all of them."""

    def __init__(self, progress: Progress, limit: int) -> None:
        self.progress = progress
        self.pages = progress.add_task("pages", total=limit)
        self.chunks = progress.add_task("audio", total=None)

    def page(self, outcome: CrawlOutcome) -> None:
        self.progress.update(self.pages, advance=1)

    def audio(self, done: int, total: int) -> None:
        self.progress.update(self.chunks, completed=done, total=total)

    def finish(self, pages: int) -> None:
        self.progress.update(self.pages, total=pages, completed=pages)


def _outcome_line(outcome: CrawlOutcome) -> str:
    """One page of a crawl's report: what was stored (or why not), and its audio."""
    if outcome.article is None:
        return f"skipped   {outcome.url}: {outcome.reason}"
    article, job = outcome.article, outcome.job
    made = f", job {job.id} {job.status} {job.done}/{job.total} chunks" if job else ""
    note = f" — {job.error or job.fallback}" if job and (job.error or job.fallback) else ""
    return (
        f"{outcome.action:<9} {outcome.url} → {article.slug} (revision {article.revision}):"
        f" audio {outcome.audio}{made}{note}"
    )


@app.command()
def crawl(
    url: Annotated[
        str, typer.Argument(help="The page to start from (with --sitemap: the site, or its sitemap).")
    ],
    sitemap: Annotated[
        bool, typer.Option("--sitemap", help="Take the pages from the site's /sitemap.xml (or URL if .xml).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Pages to fetch at most.")] = 100,
    article: Annotated[str | None, typer.Option(help="The embed line's data-article selector.")] = None,
    skip: Annotated[str | None, typer.Option(help="The embed line's data-skip selectors.")] = None,
    title: Annotated[str | None, typer.Option(help="The embed line's data-title selector.")] = None,
    delay: Annotated[
        float, typer.Option(min=0, help="Seconds between requests; robots.txt's Crawl-delay if longer.")
    ] = 1.0,
    same_prefix: Annotated[
        bool, typer.Option("--same-prefix/--whole-site", help="Stay under the start URL's directory.")
    ] = True,
) -> None:
    """Pre-generate a site: fetch its pages (robots.txt obeyed), store each as the toolbar will send it,
    and make its audio, so that readers wait for nothing; exits 1 if a page's audio failed."""
    from tts_service.crawl.crawler import CrawlOptions
    from tts_service.crawl.pages import Selectors, pregenerate_site

    async def work(services: Services) -> list[CrawlOutcome]:
        options = CrawlOptions(
            url, sitemap, limit, delay, not same_prefix, services.settings.embed_keep_query_list
        )
        return await pregenerate_site(services, options, Selectors(article, skip, title), bars)

    with Progress(transient=True) as progress:  # the report below takes the bars' place
        bars = _CrawlBars(progress, limit)
        outcomes = _run(work)
        bars.finish(len(outcomes))
    for outcome in outcomes:
        typer.echo(_outcome_line(outcome))
    counts = ", ".join(
        f"{sum(o.action == a for o in outcomes)} {a}" for a in ("stored", "unchanged", "skipped")
    )
    failed = sum(o.job is not None and o.job.status == JobStatus.FAILED for o in outcomes)
    typer.echo(f"{counts}; audio failed for {failed}")
    if failed:
        raise typer.Exit(1)


@app.command()
def prune(
    keep: Annotated[
        int | None, typer.Option(help="Revisions to keep per article (default: TTS_KEEP_REVISIONS); 0: all.")
    ] = None,
    vacuum: Annotated[bool, typer.Option(help="Give the freed space back to the file system.")] = True,
) -> None:
    """Remove old revisions, finished jobs no one looks at, and ended sign-in sessions; report what went."""
    from tts_service.sessions import SessionStore
    from tts_service.web.session import token_fingerprint

    async def work(services: Services) -> tuple[int, int, int, int, int]:
        settings, store = services.settings, services.store
        before = await store.size()
        revisions, jobs = await store.prune(settings.keep_revisions if keep is None else keep)
        sessions = await SessionStore(store).prune(token_fingerprint(settings))
        if vacuum:
            await store.vacuum()
        return revisions, jobs, sessions, before, await store.size()

    if keep is not None and keep < 0:
        typer.echo("error: --keep is 0 (keep all) or more", err=True)
        raise typer.Exit(2)
    revisions, jobs, sessions, before, after = _run(work)
    typer.echo(
        f"removed {revisions} revisions, {jobs} jobs, {sessions} sessions;"
        f" database {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB"
    )


def _published_line(published: Published, verbose: bool) -> Iterator[str]:
    """What one publishing pass did: each path with ``verbose``, then the counts."""
    site, report = published.site, published.report
    if verbose:
        for verb, paths in (("written", report.written), ("removed", report.removed)):
            yield from (f"{verb} {path}" for path in paths)
    yield (
        f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed;"
        f" {len(site.with_audio)} articles with audio, {len(site.without_audio)} without audio yet"
        f" (published without the player), {len(site.nothing_to_speak)} with nothing to speak"
    )
    for slug in site.skipped:
        yield f"skipped {slug!r}: not usable as a file name"


@app.command()
def publish(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the site (made if missing).")],
    base_url: Annotated[
        str | None, typer.Option(help="Where the site is served: absolute links in the feed and pages.")
    ] = None,
    audio_base_url: Annotated[
        str | None,
        typer.Option(help="Link the audio at this URL (as {URL}/{key}.mp3) instead of copying it."),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running: publish again when the store changes.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between checks of the store with --watch.")
    ] = POLL_SECONDS,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Name each file written or removed.")
    ] = False,
) -> None:
    """Write a static site: the index, every article page with its audio manifest, captions and MP3, and
    the feed. Only changed files are written, and only files this command wrote are removed."""
    from tts_service import publishing
    from tts_service.publishing.watch import watch as watch_store

    settings = Settings()
    try:
        links = publishing.Links(
            publishing.absolute_base(base_url, "--base-url") if base_url else None,
            publishing.absolute_base(audio_base_url, "--audio-base-url") if audio_base_url else None,
        )
        root = publishing.output_dir(out_dir, settings)
    except InvalidInput as exc:
        _usage_error(exc.message)

    def show(published: Published) -> None:
        if published.report.changed or not watch:
            for line in _published_line(published, verbose):
                typer.echo(line)

    def failed(exc: TTSError) -> None:
        typer.echo(f"error: {exc.message}", err=True)

    async def work(services: Services) -> None:
        once = functools.partial(publishing.publish, services.pipeline, root, links)
        if watch:
            await watch_store(services.store, once, show, failed, interval)
        else:
            show(await once())

    if links.base_url is None:
        typer.echo("no feed.xml: a feed needs absolute links; give --base-url", err=True)
    try:
        _run(work)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)


def _usage_error(message: str) -> NoReturn:
    """A mistake in the command line: one line on stderr, exit 2 (as click exits for its own)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _check_output(out: Path) -> None:
    """Refuse an output path that cannot be written, before any synthesis is spent on it."""
    if out.is_dir():
        _usage_error(f"{out} is a directory; give a file name such as {out / 'out.mp3'}")
    if not out.parent.is_dir():
        _usage_error(f"the directory {out.parent} does not exist")


@app.command()
def synth(
    text: Annotated[str, typer.Argument(help="Text to speak.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="MP3 file to write.")],
    engine: Annotated[str | None, typer.Option(help="Engine name (default: TTS_ENGINE).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice name (default: the engine's).")] = None,
    rate: Annotated[
        str, typer.Option(help="Speed change in percent, -50 to +100: +20% or -10% (or 20, -10).")
    ] = "+0%",
) -> None:
    """Speak TEXT into an MP3 file, without touching the article store."""
    _check_output(out)
    try:
        prosody = Prosody(rate=parse_rate(rate))  # the API's reading of rate, too
    except InvalidInput as exc:
        _usage_error(exc.message)

    async def work(services: Services) -> float:
        settings = services.settings
        chosen, chosen_voice = services.pipeline.planner.resolve(engine, voice)
        plan = await services.pipeline.planner.plan_text(text, engine, voice, prosody)  # readings, lexicon
        slots = asyncio.Semaphore(settings.synthesis_slots)  # as many chunks at once as the service would run

        async def one(spoken: str) -> Synthesis:
            async with slots:
                return await say(chosen, spoken, chosen_voice, prosody)

        results = await asyncio.gather(*(one(c.spoken) for c in plan.spoken))
        if not results:
            raise InvalidInput("nothing to say: the text is empty")
        await asyncio.to_thread(out.write_bytes, b"".join(r.audio for r in results))
        return sum(r.duration for r in results)

    seconds = _run(work)
    typer.echo(f"wrote {out} ({seconds:.1f} s)")


lexicon_app = typer.Typer(
    cls=Group, help="The pronunciation lexicon: how words are read.", no_args_is_help=True
)
app.add_typer(lexicon_app, name="lexicon")


@lexicon_app.command("add")
def lexicon_add(
    written: Annotated[str, typer.Argument(help="As written, e.g. ANSO.")],
    spoken: Annotated[str, typer.Argument(help="As it should be read, e.g. 安索.")],
) -> None:
    """Add an entry, or replace the spoken form of an existing one."""
    with user_errors():
        entry = LexiconEntry(written=written, spoken=spoken)

    async def work(services: Services) -> bool:
        limit = services.settings.max_lexicon_entries
        return await services.store.put_lexicon(entry.written, entry.spoken, limit=limit)

    typer.echo(f"{'added' if _run(work) else 'replaced'}: {entry.written} → {entry.spoken}")


@lexicon_app.command("list")
def lexicon_list() -> None:
    """Print every entry as WRITTEN<TAB>SPOKEN."""

    async def work(services: Services) -> dict[str, str]:
        return await services.store.lexicon()

    for written, spoken in sorted(_run(work).items()):
        typer.echo(f"{written}\t{spoken}")


@lexicon_app.command("remove")
def lexicon_remove(written: Annotated[str, typer.Argument(help="The written form to remove.")]) -> None:
    """Remove an entry."""

    async def work(services: Services) -> None:
        await services.store.remove_lexicon(written)

    _run(work)
    typer.echo(f"removed: {written}")


def _spoken_lines(lines: Iterator[str], marked: bool = False) -> Iterator[str]:
    """Each input line's spoken form: the stored lexicon applied, then normalisation."""

    async def work(services: Services) -> Lexicon:
        return Lexicon.of(await services.store.lexicon())

    lexicon = _run(work)
    for line in lines:
        try:
            written = readings.parse(line.rstrip("\r\n"))  # 行{háng}: this one reading
        except InvalidInput as exc:
            _usage_error(exc.message)
        yield spoken_form(written.display, lexicon, marked, written.spans)


@app.command()
def normalize() -> None:
    """Read lines on stdin; write the spoken form of each (exactly what the engines read)."""
    for line in _spoken_lines(iter(sys.stdin)):
        typer.echo(marks.ANY_MARK.sub("", line))  # a reading set in the text is not part of what is read


@app.command()
def pinyin(
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="After each line, one indented line per polyphone: character, reading, sure or unsure, how "
            "it was decided (lexicon, phrase, rule, usual, default) and the phrase or rule that decided it.",
        ),
    ] = False,
) -> None:
    """Read lines on stdin; write the pinyin of each line's spoken form (tone digits, 5 = neutral)."""
    for line in _spoken_lines(iter(sys.stdin), marked=explain):
        items = lexicon_tokens(line)
        typer.echo(" ".join(t.pinyin for t in items if isinstance(t, Syllable)))
        if explain:
            for row in explain_readings(items):
                typer.echo("  " + row)


cache_app = typer.Typer(
    cls=Group, help="The audio cache: check it, and remove what nothing uses.", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(voices_app, name="voices")
app.command()(migrate)
app.command()(worker)
app.command()(proof)


@cache_app.command("verify")
def cache_verify(
    quarantine: Annotated[
        bool,
        typer.Option(help="Move bad audio to quarantine/ in the store and forget it (made again)."),
    ] = False,
) -> None:
    """Check that every cached file decodes and matches its recorded size and hash; exit 1 if any is bad."""
    from tts_service import upkeep

    async def work(services: Services) -> upkeep.VerifyReport:
        return await upkeep.verify(services.store, services.cache, quarantine=quarantine)

    report = _run(work)
    for problem in report.bad:
        moved = " (quarantined)" if problem.key in report.quarantined else ""
        typer.echo(f"bad {problem.key}: {problem.reason}{moved}")
    for name in report.unrecorded:
        typer.echo(f"unrecorded {name}")
    typer.echo(
        f"checked {report.checked} files: {report.checked - len(report.bad)} ok, {len(report.bad)} bad"
        f" ({len(report.quarantined)} quarantined), {report.unhashed} without a recorded hash,"
        f" {len(report.unrecorded)} not recorded (removed by `cache gc`)"
    )
    if report.bad:
        raise typer.Exit(1)


@cache_app.command("gc")
def cache_gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would go; remove nothing.")] = False,
    min_age: Annotated[
        float, typer.Option(min=0, help="Keep files younger than this many seconds (work in progress).")
    ] = 900.0,
) -> None:
    """Remove cached audio that no current article revision references; report the bytes freed."""
    from tts_service import upkeep

    async def work(services: Services) -> upkeep.GcReport:
        planner = services.pipeline.planner
        return await upkeep.collect(services.store, services.cache, planner, dry_run=dry_run, min_age=min_age)

    report = _run(work)
    verb = "would remove" if dry_run else "removed"
    for entry in report.removed:
        typer.echo(f"{verb} {entry.name}")
    typer.echo(
        f"{verb} {len(report.removed)} files, {report.freed} bytes ({report.freed / 1e6:.1f} MB);"
        f" kept {report.kept}"
    )


@cache_app.command("backfill-marks")
def cache_backfill_marks(
    slug: Annotated[list[str] | None, typer.Argument(help="Articles to do (default: all).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what lacks a timing; make nothing.")
    ] = False,
) -> None:
    """Give cached audio made before word timings were kept (or with an older version) its timing."""
    from tts_service.backfill import BackfillReport, backfill

    async def work(services: Services) -> BackfillReport:
        pipeline = services.pipeline
        done = functools.partial(typer.echo, err=True)
        return await backfill(
            services.store, pipeline.planner, pipeline.synthesizer, slug or (), dry_run=dry_run, progress=done
        )

    report = _run(work)
    for failure in report.failed:
        typer.echo(f"failed {failure}")
    lacking = report.checked - report.current
    typer.echo(
        f"checked {report.checked} chunks: {report.current} had a timing, {lacking} did not"
        + (
            ""
            if dry_run
            else f"; {report.retimed} timed, {report.replaced} made again, {len(report.failed)} failed"
        )
    )
    if report.failed:
        raise typer.Exit(1)


def _listed(article: Article) -> dict[str, str | int | None]:
    """What ``list --json`` tells of an article: the API list's fields, but the page URL it has, if any."""
    fields = ("slug", "title", "byline", "date", "revision", "updated_at", "url")
    return {name: getattr(article, name) for name in fields}


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of lines.")] = False,
    search: Annotated[
        str | None,
        typer.Option("--search", "-q", help="Only articles whose title, slug or byline contain this."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many (default: all).")] = None,
) -> None:
    """List articles, most recently updated first: SLUG<TAB>REVISION<TAB>UPDATED<TAB>TITLE per line."""

    async def work(services: Services) -> list[Article]:
        page = await services.store.find_articles(limit=limit or 2**62, query=search)
        return list(page.articles)

    articles = _run(work)
    if as_json:
        typer.echo(json.dumps([_listed(a) for a in articles], ensure_ascii=False, indent=2))
        return
    for article in articles:
        title = " ".join(article.title.split())  # one line, no tab inside the last column
        typer.echo(f"{article.slug}\t{article.revision}\t{article.updated_at[:19]}Z\t{title}")
