"""The app's stylesheet: calm, readable, with one consistent colour per rating."""

# Rating colours, shared with the corpus table (pandas Styler) so badges look the same everywhere.
RATING_COLOURS = {
    "partisan": ("#fde9cc", "#7a3b00", "#f0c07f"),  # background, text, border
    "rated": ("#e3f1e7", "#1d5e35", "#b5dbc1"),
    "unrated": ("#eceef2", "#454c57", "#d3d7de"),
}

CSS = """
<style>
:root {
  --rag-ink: #1f2328;
  --rag-muted: #59626e;
  --rag-line: #e3e6ea;
  --rag-paper: #fbfbfa;
  --rag-amber-bg: #fff7e8;
  --rag-amber-line: #e3a341;
  --rag-amber-ink: #6b3a00;
  --rag-mark: #ffe98a;
  --rag-psg: #eef4fb;
  --rag-red: #b42318;
}
.rag-question { white-space: pre-wrap; overflow-wrap: anywhere; }
.rag-answer p { margin: 0 0 .55rem 0; line-height: 1.6; overflow-wrap: anywhere; }
.rag-answer.rag-refused p { color: var(--rag-muted); font-style: italic; }
.rag-ref {
  display: inline-block; font-size: .78em; font-weight: 600; color: #1f5f8b; background: #e8f0f8;
  border-radius: 4px; padding: 0 .28em; margin: 0 .05em; line-height: 1.35; vertical-align: 1px;
}
.rag-cursor { color: #1f5f8b; animation: rag-blink 1s steps(2, start) infinite; }
@keyframes rag-blink { to { visibility: hidden; } }
.rag-searched { font-size: .85rem; color: var(--rag-muted); margin-bottom: .35rem; }
.rag-searched span { font-style: italic; }
.rag-banner {
  background: var(--rag-amber-bg); border: 1px solid #f3d9ab; border-left: 4px solid var(--rag-amber-line);
  border-radius: 6px; padding: .55rem .8rem .45rem .8rem; margin: .1rem 0 .75rem 0; color: var(--rag-amber-ink);
  font-size: .92rem;
}
.rag-banner-title { font-weight: 650; margin-bottom: .2rem; }
.rag-banner ul { margin: 0; padding-left: 1.1rem; }
.rag-banner li { margin: .15rem 0; line-height: 1.45; overflow-wrap: anywhere; }
.rag-banner li.rag-w-onesided { list-style: "⚖  "; }
.rag-notice {
  background: #eef4fb; border-left: 4px solid #5b8fc7; border-radius: 6px; padding: .5rem .8rem;
  margin-bottom: .7rem; font-size: .92rem; color: #1d3f63;
}
.rag-notes { margin: .2rem 0 .3rem 0; padding-left: 1.1rem; font-size: .86rem; color: var(--rag-muted); }
.rag-unsupported {
  text-decoration: underline wavy var(--rag-red); text-decoration-thickness: 1px; text-underline-offset: 3px;
  background: #fdf0ef;
}
.rag-unsupported-tag {
  display: inline-block; margin-left: .3em; font-size: .75rem; font-weight: 600; color: var(--rag-red);
  border: 1px solid #f2b8b5; border-radius: 4px; padding: 0 .35em; background: #fff;
}
.rag-sources-title { font-size: .8rem; font-weight: 650; letter-spacing: .06em; text-transform: uppercase;
  color: var(--rag-muted); margin: .6rem 0 .1rem 0; }
.rag-cite { font-size: .92rem; }
.rag-cite-head { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem .45rem; }
.rag-n { font-weight: 700; color: #1f5f8b; }
.rag-outlet { font-weight: 650; overflow-wrap: anywhere; }
.rag-title { color: var(--rag-ink); font-style: italic; margin-top: .15rem; overflow-wrap: anywhere; }
.rag-meta { color: var(--rag-muted); font-size: .85rem; margin: .1rem 0 .4rem 0; overflow-wrap: anywhere; }
.rag-datebasis { font-size: .8rem; }
.rag-badge {
  display: inline-block; font-size: .74rem; font-weight: 650; border-radius: 999px; padding: .05rem .55rem;
  border: 1px solid; white-space: nowrap; line-height: 1.5;
}
.rag-badge-partisan { background: #fde9cc; color: #7a3b00; border-color: #f0c07f; }
.rag-badge-rated { background: #e3f1e7; color: #1d5e35; border-color: #b5dbc1; }
.rag-badge-unrated { background: #eceef2; color: #454c57; border-color: #d3d7de; }
.rag-label { color: var(--rag-muted); font-size: .84rem; overflow-wrap: anywhere; }
.rag-framing {
  background: var(--rag-amber-bg); border-left: 3px solid var(--rag-amber-line); border-radius: 4px;
  padding: .45rem .65rem; margin: .25rem 0 .5rem 0; color: var(--rag-amber-ink); font-size: .86rem; line-height: 1.45;
}
.rag-framing-title { font-weight: 650; }
.rag-rationale { margin-top: .25rem; color: #5c4a2e; overflow-wrap: anywhere; }
.rag-cues { margin-top: .3rem; font-size: .84rem; }
.rag-origin { font-size: .74rem; color: var(--rag-muted); border: 1px dashed var(--rag-line); border-radius: 999px;
  padding: 0 .45rem; white-space: nowrap; }
.rag-unrated-note { color: var(--rag-muted); font-size: .84rem; margin: .1rem 0 .35rem 0; }
.rag-injection { background: #fdecec; border-left: 3px solid #c0392b; border-radius: 4px; color: #7a1f16;
  padding: .35rem .6rem; margin: .25rem 0 .4rem 0; font-size: .85rem; overflow-wrap: anywhere; }
.rag-cue-word { font-weight: 600; }
.rag-cue-kind { color: var(--rag-muted); }
.rag-passage {
  white-space: pre-wrap; overflow-wrap: anywhere; background: var(--rag-paper); border: 1px solid var(--rag-line);
  border-radius: 6px; padding: .55rem .7rem; line-height: 1.55; font-size: .9rem;
}
.rag-passage.rag-dim { color: #5f6670; }
.rag-passage mark.rag-hl, .rag-doc mark.rag-hl { background: var(--rag-mark); color: var(--rag-ink); border-radius: 2px;
  padding: 0 1px; }
.rag-cue { text-decoration: underline dotted #c2410c; text-decoration-thickness: 2px; text-underline-offset: 3px; }
.rag-doc-head .rag-title { font-size: 1.05rem; font-weight: 600; font-style: normal; margin-bottom: .4rem; }
.rag-doc-head dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0 0 .5rem 0;
  font-size: .86rem; }
.rag-doc-head dt { color: var(--rag-muted); }
.rag-doc-head dd { margin: 0; overflow-wrap: anywhere; }
.rag-doc-rating { font-size: .86rem; margin-bottom: .6rem; }
.rag-ratedby { color: var(--rag-muted); font-size: .8rem; margin-top: .2rem; }
.rag-doc {
  position: relative; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 58vh; overflow-y: auto;
  border: 1px solid var(--rag-line); border-radius: 6px; padding: .8rem 1rem; background: var(--rag-paper);
  line-height: 1.6; font-size: .93rem;
}
.rag-doc .rag-psg { background: var(--rag-psg); box-shadow: 0 0 0 2px var(--rag-psg); }
.rag-seg {
  display: inline-block; font-size: .72rem; font-weight: 650; letter-spacing: .04em; text-transform: uppercase;
  color: var(--rag-muted); border-top: 1px solid var(--rag-line); width: 100%; padding-top: .35rem; margin-top: .2rem;
}
.rag-intro { color: var(--rag-muted); font-size: .95rem; line-height: 1.55; }
.rag-empty { color: var(--rag-muted); }
.rag-turnmeta { color: var(--rag-muted); font-size: .8rem; }
.rag-upload-ok { background: #e3f1e7; border-left: 4px solid #3f8f5a; border-radius: 6px; padding: .5rem .8rem;
  color: #1d5e35; font-size: .92rem; margin: .2rem 0 .4rem 0; overflow-wrap: anywhere; }
/* Chat bubbles: a little more air, readable line length. */
[data-testid="stChatMessage"] { padding-top: .6rem; padding-bottom: .6rem; }
[data-testid="stChatMessageContent"] { min-width: 0; }
@media (max-width: 640px) {
  .rag-answer p { line-height: 1.5; }
  .rag-passage { font-size: .86rem; }
  .rag-doc { max-height: 52vh; padding: .6rem .65rem; font-size: .88rem; }
  .rag-doc-head dl { grid-template-columns: 1fr; }
  .rag-doc-head dt { margin-top: .2rem; }
}
.rag-failed { background: #fdf0ef; border-left: 4px solid #b42318; border-radius: 6px; padding: .55rem .8rem;
  color: #7a1a12; font-size: .9rem; margin: .3rem 0 .6rem 0; }
.rag-failed-title { font-weight: 650; }
.rag-failed ul { margin: .2rem 0 0 0; padding-left: 1.1rem; }
.rag-failed code { font-size: .82rem; overflow-wrap: anywhere; }
details.rag-more, details.rag-why { margin-top: .3rem; font-size: .85rem; }
details.rag-more > summary, details.rag-why > summary { cursor: pointer; color: #1f5f8b; width: fit-content; }
details.rag-why > summary { color: var(--rag-amber-ink); text-decoration: underline dotted; }
details.rag-more[open] > summary { margin-bottom: .3rem; }
details.rag-more .rag-passage { font-size: .88rem; }
/* Compare sources: one card per outlet. */
.rag-cmp-summary { color: var(--rag-muted); font-size: .88rem; margin-bottom: .4rem; }
.rag-cmp-head { border-left: 4px solid var(--rag-line); padding-left: .55rem; margin-bottom: .2rem; }
.rag-cmp-head.rag-cite-partisan { border-left-color: #f0c07f; }
.rag-cmp-head.rag-cite-rated { border-left-color: #b5dbc1; }
.rag-cmp-head .rag-meta { margin-bottom: 0; }
.rag-cmp-badge { margin-top: .15rem; font-size: .86rem; }
.rag-cmp-quote { font-size: .92rem; line-height: 1.5; overflow-wrap: anywhere; margin-top: .35rem; }
.rag-cmp-quote .rag-meta { margin: .1rem 0 0 0; font-size: .8rem; }
.rag-cmp-title { font-style: italic; }
.rag-cmp-section { margin-top: .6rem; font-size: .9rem; }
.rag-cmp-list { margin: .2rem 0 .3rem 0; padding-left: 1.1rem; }
.rag-cmp-list li { margin: .25rem 0; line-height: 1.45; overflow-wrap: anywhere; }
.rag-timings td { padding: .1rem .8rem .1rem 0; font-size: .88rem; border: none; }
.rag-timings td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
.rag-timings { border-collapse: collapse; border: none; }
</style>
"""
