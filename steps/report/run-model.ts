/**
 * What one cucumber run did, read from its message stream: every scenario
 * (an outline's rows each with their example values), every attempt of it,
 * every step and hook with its status, duration, arguments and attachments,
 * and what went wrong outside scenarios (parse errors, failing BeforeAll or
 * AfterAll hooks, a run that never reported its end). Tolerates any message
 * it does not know and any message missing (a run killed half-way).
 */
import { SEVERITY, worse, type Envelope } from './messages';

export const FIGURES_MEDIA_TYPE = 'application/vnd.eventfold.figures+json';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Figures sharing a group are drawn together as one bar chart. */
  group?: string;
}

export interface Attachment {
  mediaType: string;
  /** The body as cucumber sent it; BASE64 when `base64` is true. */
  body: string;
  base64: boolean;
  fileName?: string;
  /** An attachment cucumber stored elsewhere (externalised): only its address. */
  url?: string;
}

export interface StepRun {
  kind: 'step' | 'hook';
  /** "Given ", "When ", … for steps; "Before", "After" for hooks. */
  keyword: string;
  text: string;
  /** The step comes from the feature's or rule's Background. */
  background: boolean;
  status: string;
  seconds: number;
  message?: string;
  docString?: { content: string; mediaType?: string };
  dataTable?: string[][];
  attachments: Attachment[];
  /** Code cucumber suggests for an undefined step. */
  snippet?: string;
}

export interface Attempt {
  /** 1 for the first attempt. */
  number: number;
  verdict: string;
  seconds: number;
  finished: boolean;
  willBeRetried: boolean;
  steps: StepRun[];
  /** Attachments not tied to a step. */
  attachments: Attachment[];
  figures: Figure[];
}

export interface ScenarioRun {
  /** Which log the run was on ("file log", "PostgreSQL"). */
  log: string;
  /** PASSED … FAILED, UNKNOWN for a scenario that started but never finished, NOT RUN for one that never started. */
  verdict: string;
  seconds: number;
  attempts: Attempt[];
  figures: Figure[];
  /** The first step that did not pass (or the hook), with its message. */
  failure?: { step: string; status: string; message: string };
}

export interface ScenarioInfo {
  /** uri:line of the pickle (an outline row's line): the same in every run of the same sources. */
  key: string;
  uri: string;
  /** Line of the Scenario (or Scenario Outline) it comes from. */
  scenarioLine: number;
  line: number;
  name: string;
  keyword: string;
  tags: string[];
  /** An outline row's example values, header → value. */
  example?: Array<[string, string]>;
  examplesName?: string;
}

export interface Problem {
  /** What went wrong, in a few words ("BeforeAll hook failed", "feature file not parsed"). */
  title: string;
  message: string;
  where?: string;
}

export interface RunModel {
  label: string;
  started?: number;
  finished?: number;
  /** testRunFinished arrived. */
  ended: boolean;
  success?: boolean;
  documents: Map<string, Envelope>;
  /** Every scenario the run selected, in run order, with its run (NOT RUN when it never started). */
  scenarios: Array<{ info: ScenarioInfo; run: ScenarioRun }>;
  problems: Problem[];
  runAttachments: Attachment[];
}

export const toSeconds = (t: { seconds?: number | string; nanos?: number } | undefined) => (t ? Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9 : 0);

const HOOK_KEYWORDS: Record<string, string> = {
  BEFORE_TEST_RUN: 'BeforeAll',
  AFTER_TEST_RUN: 'AfterAll',
  BEFORE_TEST_CASE: 'Before',
  AFTER_TEST_CASE: 'After',
  BEFORE_TEST_STEP: 'BeforeStep',
  AFTER_TEST_STEP: 'AfterStep',
};

interface AstInfo {
  line: number;
  keyword?: string;
  background?: boolean;
  /** For an examples row: its header and cells, and the examples' name. */
  example?: Array<[string, string]>;
  examplesName?: string;
  name?: string;
}

/** Every AST node of a document by id: scenarios, steps (with their keyword and whether they are a Background's), examples rows. */
function astIndex(document: Envelope): Map<string, AstInfo> {
  const index = new Map<string, AstInfo>();
  const visitSteps = (steps: Envelope[] | undefined, background: boolean) => {
    for (const step of steps ?? []) index.set(step.id, { line: step.location?.line ?? 0, keyword: step.keyword, background });
  };
  const visit = (children: Envelope[] | undefined) => {
    for (const child of children ?? []) {
      if (child.background) visitSteps(child.background.steps, true);
      if (child.scenario) {
        const scenario = child.scenario;
        index.set(scenario.id, { line: scenario.location?.line ?? 0, keyword: scenario.keyword, name: scenario.name });
        visitSteps(scenario.steps, false);
        for (const examples of scenario.examples ?? []) {
          const header = (examples.tableHeader?.cells ?? []).map((c: Envelope) => String(c.value));
          for (const row of examples.tableBody ?? []) {
            const cells = (row.cells ?? []).map((c: Envelope) => String(c.value));
            index.set(row.id, { line: row.location?.line ?? 0, example: header.map((h: string, i: number) => [h, cells[i] ?? ''] as [string, string]), examplesName: examples.name || undefined });
          }
        }
      }
      if (child.rule) visit(child.rule.children);
    }
  };
  visit(document.feature?.children);
  return index;
}

function attachmentOf(m: Envelope): Attachment {
  return {
    mediaType: String(m.mediaType ?? 'application/octet-stream'),
    body: typeof m.body === 'string' ? m.body : '',
    base64: m.contentEncoding === 'BASE64',
    fileName: m.fileName,
    url: m.url,
  };
}

function figuresOf(attachment: Attachment): Figure[] {
  try {
    const text = attachment.base64 ? Buffer.from(attachment.body, 'base64').toString('utf8') : attachment.body;
    const parsed = JSON.parse(text) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed]).filter(
      (f): f is Figure => typeof f === 'object' && f !== null && typeof (f as Figure).name === 'string' && typeof (f as Figure).value === 'number',
    ).map((f) => ({ ...f, unit: String(f.unit ?? '') }));
  } catch {
    return [];
  }
}

export function buildRun(envelopes: Envelope[], label: string): RunModel {
  const model: RunModel = { label, ended: false, documents: new Map(), scenarios: [], problems: [], runAttachments: [] };
  const pickles = new Map<string, Envelope>();
  const pickleSteps = new Map<string, Envelope>();
  const hooks = new Map<string, Envelope>();
  const testCases = new Map<string, Envelope>();
  const stepDefinitions = new Map<string, Envelope>();
  const suggestions = new Map<string, string>(); // pickleStepId → snippet
  const attempts = new Map<string, { testCaseId: string; attempt: Attempt; steps: Map<string, StepRun>; started: number }>();
  const attemptsOfCase = new Map<string, Attempt[]>();
  const runHooks = new Map<string, Envelope>(); // testRunHookStarted id → hook

  const stepRunOf = (testCase: Envelope, testStep: Envelope): StepRun => {
    if (testStep.hookId !== undefined) {
      const hook = hooks.get(testStep.hookId);
      const keyword = HOOK_KEYWORDS[hook?.type] ?? 'Hook';
      const where = hook?.sourceReference?.uri ? `${hook.sourceReference.uri}:${hook.sourceReference.location?.line ?? '?'}` : '';
      return { kind: 'hook', keyword, text: hook?.name ?? where, background: false, status: 'UNKNOWN', seconds: 0, attachments: [] };
    }
    const pickleStep = pickleSteps.get(testStep.pickleStepId) ?? {};
    const pickle = pickles.get(testCase.pickleId);
    const ast = astIndexes.get(pickle?.uri)?.get(pickleStep.astNodeIds?.[0]);
    const argument = pickleStep.argument ?? {};
    return {
      kind: 'step',
      keyword: ast?.keyword ?? `${pickleStep.type ?? 'Step'} `,
      text: String(pickleStep.text ?? ''),
      background: ast?.background ?? false,
      status: 'UNKNOWN',
      seconds: 0,
      docString: argument.docString ? { content: String(argument.docString.content ?? ''), mediaType: argument.docString.mediaType || undefined } : undefined,
      dataTable: argument.dataTable ? (argument.dataTable.rows ?? []).map((r: Envelope) => (r.cells ?? []).map((c: Envelope) => String(c.value ?? ''))) : undefined,
      attachments: [],
    };
  };
  // Suggestions may come after the step they are for: looked up once everything is read.
  const undefinedSteps: Array<{ step: StepRun; pickleStepId: string }> = [];
  const astIndexes = new Map<string, Map<string, AstInfo>>();

  for (const m of envelopes) {
    if (m.gherkinDocument?.uri) {
      model.documents.set(m.gherkinDocument.uri, m.gherkinDocument);
      astIndexes.set(m.gherkinDocument.uri, astIndex(m.gherkinDocument));
    } else if (m.pickle) {
      pickles.set(m.pickle.id, m.pickle);
      for (const step of m.pickle.steps ?? []) pickleSteps.set(step.id, step);
    } else if (m.hook) hooks.set(m.hook.id, m.hook);
    else if (m.stepDefinition) stepDefinitions.set(m.stepDefinition.id, m.stepDefinition);
    else if (m.suggestion) {
      const snippet = m.suggestion.snippets?.[0]?.code;
      if (snippet) suggestions.set(m.suggestion.pickleStepId, snippet);
    } else if (m.testRunStarted) model.started = toSeconds(m.testRunStarted.timestamp);
    else if (m.testCase) testCases.set(m.testCase.id, m.testCase);
    else if (m.testCaseStarted) {
      const testCase = testCases.get(m.testCaseStarted.testCaseId);
      if (!testCase) continue;
      const list = attemptsOfCase.get(testCase.id) ?? [];
      const attempt: Attempt = { number: Number(m.testCaseStarted.attempt ?? list.length) + 1, verdict: 'UNKNOWN', seconds: 0, finished: false, willBeRetried: false, steps: [], attachments: [], figures: [] };
      const steps = new Map<string, StepRun>();
      for (const testStep of testCase.testSteps ?? []) {
        const step = stepRunOf(testCase, testStep);
        if (testStep.pickleStepId !== undefined) undefinedSteps.push({ step, pickleStepId: testStep.pickleStepId });
        steps.set(testStep.id, step);
        attempt.steps.push(step);
      }
      list.push(attempt);
      attemptsOfCase.set(testCase.id, list);
      attempts.set(m.testCaseStarted.id, { testCaseId: testCase.id, attempt, steps, started: toSeconds(m.testCaseStarted.timestamp) });
    } else if (m.testStepFinished) {
      const step = attempts.get(m.testStepFinished.testCaseStartedId)?.steps.get(m.testStepFinished.testStepId);
      if (!step) continue;
      const result = m.testStepFinished.testStepResult ?? {};
      step.status = String(result.status ?? 'UNKNOWN');
      step.seconds = toSeconds(result.duration);
      step.message = result.message ?? (result.exception ? `${result.exception.type}: ${result.exception.message ?? ''}` : undefined);
    } else if (m.attachment) {
      const attachment = attachmentOf(m.attachment);
      const attempt = attempts.get(m.attachment.testCaseStartedId);
      if (attachment.mediaType === FIGURES_MEDIA_TYPE && attempt) attempt.attempt.figures.push(...figuresOf(attachment));
      else if (attempt) (attempt.steps.get(m.attachment.testStepId)?.attachments ?? attempt.attempt.attachments).push(attachment);
      else model.runAttachments.push(attachment);
    } else if (m.testCaseFinished) {
      const started = attempts.get(m.testCaseFinished.testCaseStartedId);
      if (!started) continue;
      started.attempt.finished = true;
      started.attempt.willBeRetried = Boolean(m.testCaseFinished.willBeRetried);
      started.attempt.seconds = toSeconds(m.testCaseFinished.timestamp) - started.started;
    } else if (m.testRunHookStarted) runHooks.set(m.testRunHookStarted.id, hooks.get(m.testRunHookStarted.hookId) ?? {});
    else if (m.testRunHookFinished) {
      const result = m.testRunHookFinished.result ?? {};
      if (result.status && result.status !== 'PASSED') {
        const hook = runHooks.get(m.testRunHookFinished.testRunHookStartedId) ?? {};
        const where = hook.sourceReference?.uri ? `${hook.sourceReference.uri}:${hook.sourceReference.location?.line ?? '?'}` : undefined;
        model.problems.push({ title: `${HOOK_KEYWORDS[hook.type] ?? 'Run'} hook ${String(result.status).toLowerCase()}${hook.name ? ` (${hook.name})` : ''}`, message: result.message ?? result.exception?.message ?? '', where });
      }
    } else if (m.parseError) {
      const source = m.parseError.source ?? {};
      model.problems.push({ title: 'Feature file not parsed', message: String(m.parseError.message ?? ''), where: source.uri ? `${source.uri}:${source.location?.line ?? '?'}` : undefined });
    } else if (m.undefinedParameterType) {
      model.problems.push({ title: 'Undefined parameter type', message: `{${m.undefinedParameterType.name}} in ${m.undefinedParameterType.expression}` });
    } else if (m.testRunFinished) {
      model.ended = true;
      model.success = m.testRunFinished.success;
      model.finished = toSeconds(m.testRunFinished.timestamp);
      const message = m.testRunFinished.message ?? m.testRunFinished.exception?.message;
      if (message) model.problems.push({ title: 'The run failed', message });
    }
  }

  for (const { step, pickleStepId } of undefinedSteps) if (step.status === 'UNDEFINED') step.snippet = suggestions.get(pickleStepId);
  for (const attempt of attempts.values()) {
    let verdict = 'PASSED';
    for (const step of attempt.attempt.steps) verdict = worse(verdict, step.status === 'UNKNOWN' && attempt.attempt.finished ? 'SKIPPED' : step.status);
    attempt.attempt.verdict = attempt.attempt.finished ? verdict : 'UNKNOWN';
  }

  for (const testCase of testCases.values()) {
    const pickle = pickles.get(testCase.pickleId);
    if (!pickle) continue;
    const index = astIndexes.get(pickle.uri) ?? new Map<string, AstInfo>();
    const scenarioAst = index.get(pickle.astNodeIds?.[0]);
    const rowAst = pickle.astNodeIds?.length > 1 ? index.get(pickle.astNodeIds[pickle.astNodeIds.length - 1]) : undefined;
    const line = pickle.location?.line ?? rowAst?.line ?? scenarioAst?.line ?? 0;
    const info: ScenarioInfo = {
      key: `${pickle.uri}:${line}`,
      uri: pickle.uri,
      scenarioLine: scenarioAst?.line ?? line,
      line,
      name: String(pickle.name ?? ''),
      keyword: scenarioAst?.keyword ?? 'Scenario',
      tags: (pickle.tags ?? []).map((t: Envelope) => String(t.name)),
      example: rowAst?.example,
      examplesName: rowAst?.examplesName,
    };
    const list = attemptsOfCase.get(testCase.id) ?? [];
    const last = list[list.length - 1];
    const run: ScenarioRun = {
      log: label,
      verdict: last ? last.verdict : 'NOT RUN',
      seconds: list.reduce((sum, a) => sum + a.seconds, 0),
      attempts: list,
      figures: last?.figures ?? [],
    };
    if (last && last.verdict !== 'PASSED') {
      const failing = last.steps.find((s) => s.status !== 'PASSED' && s.status !== 'SKIPPED') ?? last.steps.find((s) => s.status !== 'PASSED');
      run.failure = failing
        ? { step: failing.kind === 'hook' ? `${failing.keyword} hook${failing.text ? ` (${failing.text})` : ''}` : `${failing.keyword}${failing.text}`, status: failing.status, message: failing.message ?? statusSentence(failing.status) }
        : { step: '', status: last.verdict, message: statusSentence(last.verdict) };
    }
    model.scenarios.push({ info, run });
  }
  // A failing run hook or a parse error already says why the run stopped; otherwise say that it did.
  if (!model.ended && model.problems.length === 0) {
    model.problems.push({ title: 'The run did not finish', message: 'cucumber stopped before it reported the end of the run (a crash, or the run was killed): see its console output.' });
  }
  return model;
}

/** What a status means, for steps that carry no message. */
export function statusSentence(status: string): string {
  switch (status) {
    case 'UNDEFINED':
      return 'No step definition matches this step.';
    case 'PENDING':
      return 'The step definition is not written yet (pending).';
    case 'SKIPPED':
      return 'Skipped.';
    case 'AMBIGUOUS':
      return 'More than one step definition matches this step.';
    case 'UNKNOWN':
      return 'Started but never finished: the run stopped during this scenario.';
    case 'NOT RUN':
      return 'Never started: the run stopped before this scenario.';
    default:
      return status.toLowerCase();
  }
}

/** Verdicts that count as passing: everything else is listed among the failures. */
export const isPassing = (verdict: string) => verdict === 'PASSED';

/** Verdicts that are not passes but not failures of the code either. */
export const isSkipped = (verdict: string) => verdict === 'SKIPPED';

export { SEVERITY };
