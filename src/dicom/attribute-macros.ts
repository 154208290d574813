/**
 * Reads of the PS3.3 attribute macros the record and the KOS reader share:
 * one item of a code sequence (Code Sequence Macro, Table 8.8-1) and the
 * Hierarchic Designator Macro (Table 10-17). Undefined when the item holds
 * none of their attributes.
 */
import type { DatasetReader } from './dataset-reader.js';
import type { CodedEntry, HierarchicDesignator } from './attribute-values.js';
import { TAG } from './tags.js';

export function codedEntry(r: DatasetReader): CodedEntry | undefined {
  const entry: CodedEntry = {};
  const value = r.text(TAG.CodeValue) ?? r.text(TAG.LongCodeValue) ?? r.text(TAG.URNCodeValue);
  if (value !== undefined) entry.codeValue = value;
  const scheme = r.text(TAG.CodingSchemeDesignator);
  if (scheme !== undefined) entry.codingSchemeDesignator = scheme;
  const version = r.text(TAG.CodingSchemeVersion);
  if (version !== undefined) entry.codingSchemeVersion = version;
  const meaning = r.text(TAG.CodeMeaning);
  if (meaning !== undefined) entry.codeMeaning = meaning;
  return value !== undefined || scheme !== undefined || version !== undefined || meaning !== undefined ? entry : undefined;
}

export function hierarchicDesignator(r: DatasetReader): HierarchicDesignator | undefined {
  const designator: HierarchicDesignator = {};
  const local = r.text(TAG.LocalNamespaceEntityID);
  if (local !== undefined) designator.localNamespaceEntityId = local;
  const universal = r.text(TAG.UniversalEntityID);
  if (universal !== undefined) designator.universalEntityId = universal;
  const type = r.text(TAG.UniversalEntityIDType);
  if (type !== undefined) designator.universalEntityIdType = type;
  return local !== undefined || universal !== undefined || type !== undefined ? designator : undefined;
}
