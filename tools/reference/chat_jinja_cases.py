#!/usr/bin/env python3
"""Golden outputs for small Jinja feature cases (the interpreter's unit tests), rendered by transformers' own
jinja2 environment.

Pinned: transformers==5.24.0, jinja2==3.1.6 (see requirements-chat.txt).
Run:    /opt/refvenv/bin/python tools/reference/chat_jinja_cases.py

Each case is rendered with transformers.utils.chat_template_utils._compile_jinja_template(template).render(**context),
i.e. ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
with transformers' tojson, raise_exception, strftime_now, dict and namespace. A case with "clock" (Unix seconds) gets
strftime_now bound to that instant in UTC. Failures are recorded as {"error": kind, "message": ..., "line": ...}.
Writes Tests/TailorChatTests/Fixtures/jinja_cases.json.
"""

import datetime
import json
import os

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "TailorChatTests", "Fixtures", "jinja_cases.json")

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
DATA = {"a": 1, "b": [1, 2, 3], "s": "Hello World", "d": {"x": 1, "y": "two", "z": None}, "n": None, "f": 2.5,
        "items": [{"name": "b", "v": 2, "ok": True}, {"name": "a", "v": 1, "ok": False}, {"name": "c", "v": 3, "ok": True}]}

CASES = [
    # whitespace control, trim_blocks, lstrip_blocks
    ("ws_plain", "a\n{% if true %}\nb\n{% endif %}\nc", {}),
    ("ws_indented_blocks", "<ul>\n    {% for x in b %}\n    <li>{{ x }}</li>\n    {% endfor %}\n</ul>", DATA),
    ("ws_minus", "a   {%- if true -%}   b   {%- endif -%}   c", {}),
    ("ws_output_minus", "x  {{- 1 -}}  y  {{ 2 }}  z", {}),
    ("ws_plus", "  {%+ if true %}a{% endif %}\n  {% if true +%}\nb{% endif %}", {}),
    ("ws_comment", "a\n  {# comment #}\nb {#- trimmed -#}   c", {}),
    ("ws_trailing_newline", "line\n", {}),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("ws_var_not_lstripped", "  {{ 1 }}\n  {% if true %}x{% endif %}", {}),
    ("ws_inline_block", "a {% if true %}b{% endif %} c\n", {}),
    ("raw", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}!", {}),
    ("raw_minus", "a  {%- raw -%}  x  {%- endraw -%}  b", {}),
    # literals and printing
    ("lit_strings", "{{ 'a\\nb' }}|{{ \"t\\tq\\\"\" }}|{{ 'caf\\u00e9' }}|{{ '\\x41' }}|{{ 'back\\\\slash' }}|{{ 'ab' 'cd' }}|{{ 'keep\\d' }}", {}),
    ("lit_numbers", "{{ 42 }} {{ -7 }} {{ 3.0 }} {{ 1e3 }} {{ 0.1 + 0.2 }} {{ 1_000 }} {{ 2.5e-5 }} {{ 1e16 }} {{ 10 / 4 }} {{ 10 / 5 }}", {}),
    ("lit_consts", "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}", {}),
    ("lit_containers", "{{ [1, 'a', none, true, 2.0] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 'x') }} {{ (1,) }} {{ [] }} {{ {} }}", {}),
    ("print_data", "{{ d }} {{ items[0] }} {{ n }} {{ f }}", DATA),
    ("print_string_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"'] }}", {}),
    # access
    ("access", "{{ d.x }} {{ d['y'] }} {{ d.missing }}|{{ b[0] }} {{ b[-1] }} {{ b[10] }}|{{ s[0] }} {{ s[-1] }}", DATA),
    ("access_none_attr", "[{{ n.x }}]", DATA),
    ("slicing", "{{ b[1:] }} {{ b[:2] }} {{ b[::-1] }} {{ b[-2:] }} {{ s[1:5:2] }} {{ s[::-1] }} {{ b[5:] }} {{ s[-3:] }}", DATA),
    ("dict_methods", "{{ d.get('x') }} {{ d.get('q', 'dflt') }} {{ d.get('q') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}", DATA),
    # arithmetic and operators
    ("arith_int", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2.5 }} {{ 3 * 4 }} {{ 10 - 15 }}", {}),
    ("arith_seq", "{{ 'ab' * 3 }} {{ [1] + [2, 3] }} {{ 'x' + 'y' }} {{ [0] * 3 }}", {}),
    ("arith_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 1 + 2 ~ 3 }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 2 <= 1 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ [1, 2] == [1, 2] }} {{ 1 != 2 }} {{ true == 1 }}", {}),
    ("logic", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ not 0 }} {{ not [1] }} {{ none or [] }}", {}),
    ("membership", "{{ 'ell' in s }} {{ 2 in b }} {{ 'x' in d }} {{ 'q' not in d }} {{ 5 not in b }} {{ 'a' in undefined_thing }}", DATA),
    ("concat", "{{ 'a' ~ 1 ~ none ~ true ~ missing ~ 2.5 }}", {}),
    ("conditional", "{{ 'yes' if a else 'no' }} {{ 'yes' if n else 'no' }} [{{ 'only' if n }}] {{ 1 if false else 2 if true else 3 }}", DATA),
    ("not_precedence", "{{ not a == 2 }} {{ not n is none }} {{ not 'x' in s }}", DATA),
    # tests
    ("tests_types", "{{ a is defined }} {{ zz is defined }} {{ zz is undefined }} {{ n is none }} {{ s is string }} {{ a is number }} {{ f is number }} {{ a is integer }} {{ f is integer }} {{ true is boolean }} {{ d is mapping }} {{ b is mapping }}", DATA),
    ("tests_iter", "{{ b is iterable }} {{ s is iterable }} {{ a is iterable }} {{ b is sequence }} {{ d is sequence }} {{ zz is iterable }}", DATA),
    ("tests_values", "{{ a is equalto 1 }} {{ a is equalto(2) }} {{ s is eq 'Hello World' }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ a is not none }} {{ n is not none }}", DATA),
    ("tests_select", "{{ b | select('odd') | list }} {{ b | reject('equalto', 2) | list }} {{ ['a', 'b'] | reject('equalto', 'a') | list }}", DATA),
    # filters
    ("f_trim", "[{{ '  x y  ' | trim }}] [{{ '--x--' | trim('-') }}] [{{ none | trim }}]", {}),
    ("f_length", "{{ b | length }} {{ s | length }} {{ d | count }} {{ missing | length }} {{ 'héllo' | length }}", DATA),
    ("f_case", "{{ s | upper }} {{ s | lower }} {{ 'hello wORLD-foo bar' | title }} {{ 'hELLO world' | capitalize }} {{ 5 | upper }}", DATA),
    ("f_default", "{{ missing | default('dflt') }} {{ n | default('dflt') }} {{ '' | default('dflt', true) }} {{ a | d(5) }} {{ missing | d }}", DATA),
    ("f_join", "{{ b | join(', ') }} {{ b | join }} {{ items | join('/', attribute='name') }}", DATA),
    ("f_replace", "{{ s | replace('o', '0') }} {{ s | replace('l', 'L', 2) }}", DATA),
    ("f_items_list", "{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %} {{ s | list }} {{ d | list }}", DATA),
    ("f_first_last", "{{ b | first }} {{ b | last }} {{ s | first }} [{{ [] | first }}]", DATA),
    ("f_selectattr", "{{ items | selectattr('ok') | map(attribute='name') | list }} {{ items | rejectattr('ok') | map(attribute='name') | list }} {{ items | selectattr('name', 'equalto', 'c') | list }}", DATA),
    ("f_map", "{{ ['a', 'b'] | map('upper') | list }} {{ items | map(attribute='v') | list }} {{ items | map(attribute='nope', default=0) | list }}", DATA),
    ("f_conv", "{{ 3.7 | int }} {{ '12' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '2.5' | float }} {{ 3 | float }} {{ 5 | string }} {{ none | string }} {{ -3 | abs }} {{ -2.5 | abs }}", {}),
    ("f_round", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 3.14159 | round(1, 'floor') }} {{ 3.1 | round(0, 'ceil') }}", {}),
    ("f_unique_sort", "{{ [3, 1, 2, 1] | unique | list }} {{ ['b', 'A', 'a'] | unique | list }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [1, 3, 2] | sort(reverse=true) }} {{ items | sort(attribute='name') | map(attribute='v') | list }}", DATA),
    ("f_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb\\n' | indent(1, blank=true) }}|{{ 'x\\ny' | indent('>') }}", {}),
    ("f_misc", "{{ '<a & \"b\">' | safe }} {{ '<a & \"b\">' | e }} {{ 'one two  three' | wordcount }} {{ b | reverse | list }} {{ b | sum }} {{ b | max }} {{ b | min }}", DATA),
    ("f_tojson", "{{ d | tojson }} {{ b | tojson }} {{ 'é\"\\n' | tojson }} {{ 1.0 | tojson }} {{ none | tojson }} {{ (1, 2) | tojson }}", DATA),
    ("f_tojson_indent", "{{ {'a': [1, {'b': 2}], 'c': {}, 'e': []} | tojson(indent=4) }}\n{{ {'k': 1} | tojson(indent=2, sort_keys=true) }}\n{{ [1, 2] | tojson(separators=(',', ':')) }}", {}),
    ("f_tojson_unicode", "{{ {'text': 'Grüße 世界 🙂', 'ctl': '\\x01'} | tojson }} {{ 'ü' | tojson(ensure_ascii=true) }}", {}),
    ("f_chain", "{{ '  Hello  ' | trim | upper | replace('L', 'l') }} {{ items | map(attribute='name') | join(',') | upper }}", DATA),
    # string methods
    ("m_strip", "[{{ '  x  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}]", {}),
    ("m_split", "{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ '<think>x</think>answer'.split('</think>')[-1] }} {{ ' a b '.split() }}", {}),
    ("m_startswith", "{{ s.startswith('He') }} {{ s.endswith('x') }} {{ s.startswith(('x', 'H')) }}", DATA),
    ("m_case", "{{ s.upper() }} {{ s.lower() }} {{ 'hello wORLD it\\'s'.title() }} {{ 'hELLO'.capitalize() }}", DATA),
    ("m_replace_format", "{{ s.replace('World', 'There') }} {{ '{} + {} = {}'.format(1, 2, 3) }} {{ '{0}-{0}'.format('x') }} {{ '{name}!'.format(name='Bob') }}", DATA),
    ("percent_format", "{{ '%s has %d items (%.2f%%) %r' % ('list', 3, 42.5, 'x') }} {{ 'one: %s' % b }} {{ '%s, %s!' | format('Hello', 'World') }}", DATA),
    ("m_misc", "{{ s.find('o') }} {{ s.count('l') }} {{ ', '.join(['a', 'b']) }} {{ 'a\\nb'.splitlines() }}", DATA),
    # for loops
    ("for_loop_vars", "{% for x in b %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", DATA),
    ("for_else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in b %}{{ x }}{% else %}empty{% endfor %}", DATA),
    ("for_filter", "{% for x in b if x != 2 %}{{ x }}{{ loop.index }}{{ loop.last }};{% endfor %}", DATA),
    ("for_unpack", "{% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %}|{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}", DATA),
    ("for_dict_string", "{% for k in d %}{{ k }}{% endfor %}|{% for c in 'héy' %}[{{ c }}]{% endfor %}|{% for x in missing %}no{% endfor %}", DATA),
    ("for_nested", "{% for i in [1, 2] %}{% for j in 'ab' %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("for_prev_next_cycle", "{% for x in b %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('odd', 'even') }};{% endfor %}", DATA),
    ("for_messages", "{% for m in messages %}{% if loop.first and m.role == 'system' %}[S:{{ m.content }}]{% elif m.role == 'user' %}U:{{ m['content'] }}{% else %}A:{{ m.content }}{% endif %}{% endfor %}", {"messages": MSGS}),
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}", {}),
    # set, scoping, namespace
    ("set_basic", "{% set x = 5 %}{% set y, z = 1, 2 %}{{ x }}{{ y }}{{ z }}{% set x = x + 1 %}{{ x }}", {}),
    ("set_loop_scope", "{% set found = false %}{% for m in messages %}{% if m.role == 'user' %}{% set found = true %}{% endif %}{% endfor %}{{ found }}", {"messages": MSGS}),
    ("namespace", "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% set ns.count = ns.count + 1 %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.count }}", {"messages": MSGS}),
    ("set_block", "{% set block %}  hello {{ a }}  {% endset %}[{{ block }}]{% set up | upper %}x{{ a }}{% endset %}{{ up }}", DATA),
    ("set_if_toplevel", "{% if true %}{% set v = 'in-if' %}{% endif %}{{ v }}", {}),
    ("dict_global", "{% set e = dict(a=1, b='x') %}{{ e }} {{ e.a }} {{ dict() }}", {}),
    # macros
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', '?') }} {{ greet(name='Cy', punct='.') }}", {}),
    ("macro_caller", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ a }}{% endcall %}", DATA),
    ("macro_recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_sees_toplevel", "{% set greeting = 'hey' %}{% macro m() %}{{ greeting }}{% endmacro %}{{ m() }}", {}),
    ("filter_block", "{% filter upper %}hello {{ a }}{% endfilter %}", DATA),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", {"messages": MSGS}),
    # globals
    ("raise_in_branch", "{% if false %}{{ raise_exception('never') }}{% endif %}ok", {}),
    ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %p %I %y %a %%') }}", {"clock": 1721995445}),
    # generators (map/select/... are lazy and always truthy in jinja2), non-string dict keys, deferred filters
    ("gen_truthy", "{{ 'yes' if ([] | select('odd')) else 'no' }} {{ [] | map('upper') | list }} {{ none | selectattr('x') | list }} {{ b | select('odd') | list | length }} {{ 3 in (b | map('int')) }} {{ b | reverse | list }} {{ d | items | list }}", DATA),
    ("int_keys", "{% set m = {0: 'a', 512: 'b', 1024: 'c', 1.0: 'one'} %}{% for k, v in m | dictsort %}{{ k }}={{ v }};{% endfor %}{{ m[512] }} {{ m[1] }} {{ m }} {{ m | tojson }} {{ 512 in m }}", {}),
    ("markup", "{{ \"'a'\"|safe + '<b> \"q\"' }} {{ ('x'|e) ~ '<' }} {{ '<'|e }} {{ ('<'|e) + '<' }} {{ '<' + ('&'|safe) }} {{ ('a'|safe) is string }} {{ ('ab'|safe) | length }} {{ ('<x>'|safe) | upper }}", {}),
    ("deferred_filter", "{% if false %}{{ x | nosuch }}{% elif false %}{{ x is nosuchtest }}{% endif %}ok", {}),
    ("err_deferred_filter_runs", "{% if true %}{{ 1 | nosuch }}{% endif %}", {}),
    ("err_generator_length", "{{ b | select('odd') | length }}", DATA),
    ("err_generator_tojson", "{{ b | map('string') | tojson }}", DATA),
    # errors
    ("err_raise", "{{ raise_exception('Custom message: ' ~ a) }}", DATA),
    ("err_undefined_attr", "{{ missing.attr }}", {}),
    ("err_undefined_attr_of_missing_key", "{{ d.missing.attr }}", DATA),
    ("err_undefined_add", "{{ missing + 1 }}", {}),
    ("err_undefined_call", "{{ missing() }}", {}),
    ("err_type_add", "{{ 1 + 'a' }}", {}),
    ("err_unknown_filter", "{{ a | nosuchfilter }}", DATA),
    ("err_iterate_none", "{% for x in n %}{% endfor %}", DATA),
    ("err_div_zero", "{{ 1 // 0 }}", {}),
    # syntax errors (line numbers come from jinja2)
    ("syn_unclosed_if", "line1\n{% if true %}\nbody", {}),
    ("syn_bad_expr", "ok\nok\n{{ 1 + }}", {}),
    ("syn_unknown_tag", "{% frobnicate %}", {}),
    ("syn_unclosed_string", "a\n{{ 'abc }}", {}),
    ("syn_endfor_mismatch", "{% for x in b %}\n{% endif %}", {}),
]


def render(template, context):
    ctx = dict(context)
    clock = ctx.pop("clock", None)
    if clock is not None:
        instant = datetime.datetime.fromtimestamp(clock, tz=datetime.timezone.utc)
        ctx["strftime_now"] = lambda fmt: instant.strftime(fmt)
    return _compile_jinja_template(template).render(**ctx)


def main():
    out = {
        "generator": {
            "script": "tools/reference/chat_jinja_cases.py",
            "function": "transformers.utils.chat_template_utils._compile_jinja_template(t).render(**context)",
            "transformers": transformers.__version__,
            "jinja2": jinja2.__version__,
        },
        "cases": [],
    }
    for name, template, context in CASES:
        case = {"name": name, "template": template, "context": context}
        try:
            case["expected"] = render(template, context)
        except jinja2.exceptions.TemplateSyntaxError as e:
            case.update({"error": "syntax", "message": e.message, "line": e.lineno})
        except jinja2.exceptions.UndefinedError as e:
            case.update({"error": "undefined", "message": str(e)})
        except jinja2.exceptions.TemplateError as e:
            kind = "raised" if type(e) is jinja2.exceptions.TemplateError else "template"
            case.update({"error": kind, "message": str(e)})
        except Exception as e:  # noqa: BLE001 - Python runtime errors (TypeError, ZeroDivisionError, ...)
            case.update({"error": "runtime", "message": f"{type(e).__name__}: {e}"})
        out["cases"].append(case)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(out['cases'])} cases")


if __name__ == "__main__":
    main()
