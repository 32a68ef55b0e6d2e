export { EditorView, keymap, lineNumbers } from "@codemirror/view";
export { EditorState } from "@codemirror/state";
export { history, defaultKeymap, historyKeymap, indentWithTab } from "@codemirror/commands";
export { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
export { json, jsonParseLinter } from "@codemirror/lang-json";
export { linter, lintGutter } from "@codemirror/lint";
