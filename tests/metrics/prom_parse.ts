/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4 for the tests: it
 * reads HELP and TYPE lines and samples with escaped label values, and throws on anything the
 * format does not allow (a sample before its TYPE, a bad escape, a bad value, a duplicate
 * series), so that tests check what Prometheus would accept, not what a grep finds.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family. */
export interface Family {
  name: string;
  help?: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c) => (c === "n" ? "\n" : "\\"));
}

function parseValue(text: string, line: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new Error(`bad value ${JSON.stringify(text)} in ${JSON.stringify(line)}`);
  }
  return Number(text);
}

function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let s = text;
  if (!s.startsWith("{")) return { labels, rest: s };
  s = s.slice(1);
  while (!s.startsWith("}")) {
    const m = LABEL.exec(s);
    if (m === null) throw new Error(`bad label name in ${JSON.stringify(line)}`);
    const name = m[0];
    s = s.slice(name.length);
    if (!s.startsWith('="')) throw new Error(`expected =" in ${JSON.stringify(line)}`);
    s = s.slice(2);
    let value = "";
    for (;;) {
      if (s.length === 0) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
      const c = s[0];
      if (c === '"') {
        s = s.slice(1);
        break;
      }
      if (c === "\n") throw new Error("raw newline in a label value");
      if (c === "\\") {
        const e = s[1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`bad escape \\${e} in ${JSON.stringify(line)}`);
        s = s.slice(2);
        continue;
      }
      value += c;
      s = s.slice(1);
    }
    if (name in labels) throw new Error(`duplicate label ${name} in ${JSON.stringify(line)}`);
    labels[name] = value;
    if (s.startsWith(",")) s = s.slice(1);
    else if (!s.startsWith("}")) throw new Error(`expected , or } in ${JSON.stringify(line)}`);
  }
  return { labels, rest: s.slice(1) };
}

/** The family a sample name belongs to (histogram suffixes stripped when their family exists). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f?.type === "histogram") return f;
    }
  }
  return undefined;
}

/** Parse a whole exposition; throws on any format error. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the text must end with \\n");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) {
      const rest = line.slice(7);
      const name = NAME.exec(rest)?.[0];
      if (name === undefined || rest[name.length] !== " ") throw new Error(`bad HELP ${line}`);
      const f = families.get(name) ?? { name, type: "untyped", samples: [] };
      if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
      f.help = unescapeHelp(rest.slice(name.length + 1));
      families.set(name, f);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type, ...extra] = line.slice(7).split(" ");
      if (!NAME.test(name) || extra.length > 0) throw new Error(`bad TYPE ${line}`);
      if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) {
        throw new Error(`unknown type ${type}`);
      }
      const f = families.get(name) ?? { name, type, samples: [] };
      if (f.samples.length > 0) throw new Error(`TYPE after samples for ${name}`);
      f.type = type;
      families.set(name, f);
      continue;
    }
    if (line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`bad sample ${JSON.stringify(line)}`);
    const { labels, rest } = parseLabels(line.slice(name.length), line);
    if (!rest.startsWith(" ")) throw new Error(`expected a space before the value: ${line}`);
    const [valueText, timestamp, ...extra] = rest.slice(1).split(" ");
    if (extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) {
      throw new Error(`bad sample tail ${JSON.stringify(line)}`);
    }
    const value = parseValue(valueText, line);
    const family = familyOf(name, families);
    if (family === undefined) throw new Error(`sample ${name} without a TYPE line`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series ${key}`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** Sum of every sample `name` whose labels include `labels`. */
export function sampleSum(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
