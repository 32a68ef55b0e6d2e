export { h, render, Fragment, createContext } from "preact";
export { useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer } from "preact/hooks";
import { h } from "preact";
import htm from "htm";
export const html = htm.bind(h);
export { marked } from "marked";
export { default as DOMPurify } from "dompurify";
