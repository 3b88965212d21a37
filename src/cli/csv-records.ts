import { StringDecoder } from "node:string_decoder";
import { CliError, exitCodes } from "./exit-codes.js";

/** One CSV record and the physical line (1-based) it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

const State = {
  /** At the start of a field: a quote opens a quoted field. */
  FieldStart: 0,
  /** Inside an unquoted field. */
  Unquoted: 1,
  /** Inside a quoted field. */
  Quoted: 2,
  /** Just after a quote inside a quoted field: `""` is an escaped quote, else the field ends. */
  QuoteInQuoted: 3,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Parses RFC 4180 CSV (comma-separated, `"` quotes with `""` escapes, quoted fields may span
 * lines, LF or CRLF line ends, UTF-8 with an optional BOM) from a byte stream, one record
 * at a time: only the record being parsed is held in memory. Blank lines are skipped.
 * `onBytes` is told how many bytes each piece of input had, for progress reports.
 */
export async function* csvRecords(
  input: AsyncIterable<Buffer | string>,
  onBytes?: (n: number) => void,
): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser();
  const decoder = new StringDecoder("utf8");
  const out: CsvRecord[] = [];
  let first = true;
  for await (const piece of input) {
    const bytes = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
    let text = typeof piece === "string" ? piece : decoder.write(piece);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    parser.push(text, out);
    onBytes?.(bytes);
    for (const r of out) yield r;
    out.length = 0;
  }
  parser.push(decoder.end(), out);
  parser.end(out);
  yield* out;
}

/** The incremental state machine behind csvRecords. */
class CsvParser {
  private state: State = State.FieldStart;
  private fields: string[] = [];
  private field = "";
  /** The physical line being read, and the one the current record started on. */
  private line = 1;
  private recordLine = 1;
  /** A CR ended the last piece: a LF at the start of the next one belongs to it. */
  private pendingCr = false;

  push(text: string, out: CsvRecord[]): void {
    const n = text.length;
    let i = 0;
    if (this.pendingCr && n > 0) {
      if (text.charCodeAt(0) === LF) i = 1;
      this.pendingCr = false;
    }
    while (i < n) {
      switch (this.state) {
        case State.FieldStart:
          if (text.charCodeAt(i) === QUOTE) {
            this.state = State.Quoted;
            i++;
            break;
          }
          this.state = State.Unquoted;
          break;
        case State.Unquoted: {
          let j = i;
          let c = 0;
          while (j < n) {
            c = text.charCodeAt(j);
            if (c === COMMA || c === LF || c === CR) break;
            if (c === QUOTE) {
              throw new CliError(
                `line ${this.line}: a quote inside an unquoted field (quote the whole field and double the quote: "a""b")`,
                exitCodes.usage,
              );
            }
            j++;
          }
          this.field += text.slice(i, j);
          i = j;
          if (j < n) i = this.delimiter(text, i, out);
          break;
        }
        case State.Quoted: {
          const j = text.indexOf('"', i);
          const end = j < 0 ? n : j;
          const part = text.slice(i, end);
          this.field += part;
          for (let k = part.indexOf("\n"); k >= 0; k = part.indexOf("\n", k + 1)) this.line++;
          i = j < 0 ? n : j + 1;
          if (j >= 0) this.state = State.QuoteInQuoted;
          break;
        }
        case State.QuoteInQuoted: {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            this.field += '"';
            this.state = State.Quoted;
            i++;
          } else if (c === COMMA || c === LF || c === CR) {
            i = this.delimiter(text, i, out);
          } else {
            throw new CliError(
              `line ${this.line}: unexpected ${JSON.stringify(text[i])} after a closing quote`,
              exitCodes.usage,
            );
          }
          break;
        }
      }
    }
  }

  /** Ends the input: the last record may lack a line end; an open quote is an error. */
  end(out: CsvRecord[]): void {
    if (this.state === State.Quoted) {
      throw new CliError(
        `line ${this.recordLine}: a quoted field is not closed before the end of the file`,
        exitCodes.usage,
      );
    }
    if (this.state !== State.FieldStart || this.fields.length > 0) this.endRecord(out);
  }

  /** Handles the comma or line end at `i`; returns the index after it. */
  private delimiter(text: string, i: number, out: CsvRecord[]): number {
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      this.fields.push(this.field);
      this.field = "";
      this.state = State.FieldStart;
      return i + 1;
    }
    this.endRecord(out);
    this.line++;
    this.recordLine = this.line;
    if (c === CR) {
      if (i + 1 >= text.length) {
        this.pendingCr = true;
        return i + 1;
      }
      if (text.charCodeAt(i + 1) === LF) return i + 2;
    }
    return i + 1;
  }

  private endRecord(out: CsvRecord[]): void {
    this.fields.push(this.field);
    const blank = this.fields.length === 1 && this.fields[0] === "" && this.state !== State.QuoteInQuoted;
    if (!blank) out.push({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.field = "";
    this.state = State.FieldStart;
  }
}
