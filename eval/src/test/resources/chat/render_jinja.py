# Renders every template of a cases file with every conversation, as transformers' apply_chat_template
# renders chat templates (jinja2's immutable sandbox, trim_blocks, lstrip_blocks, loop controls,
# raise_exception, tojson with ensure_ascii off, the generation block). Usage: render_jinja.py CASES.json OUT.json
import json
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class Generation(jinja2.ext.Extension):
    """transformers' {% generation %} block (its AssistantTracker), rendering the body as it is."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation"), [], [], body).set_lineno(lineno)

    def _generation(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

cases = json.load(open(sys.argv[1], encoding="utf-8"))
out = {}
for tname, source in cases["templates"].items():
    template = env.from_string(source)
    for cname, messages in cases["conversations"].items():
        for agp in (False, True):
            key = "%s|%s|%s" % (tname, cname, agp)
            try:
                out[key] = {"text": template.render(messages=messages, add_generation_prompt=agp, bos_token="<s>", eos_token="</s>", tools=None, documents=None)}
            except jinja2.exceptions.TemplateError as e:
                out[key] = {"error": str(e), "raised": type(e) is jinja2.exceptions.TemplateError}
            except Exception as e:
                out[key] = {"error": "%s: %s" % (type(e).__name__, e), "raised": False}
json.dump(out, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
