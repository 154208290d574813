import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, errorCommentValue, type DimseCommand } from '../../src/dimse/dimse-command.js';

describe('DIMSE command sets (PS3.7 Annex E, implicit VR little endian)', () => {
  const commands: Array<[string, DimseCommand]> = [
    ['C-ECHO-RQ', { commandField: 0x0030, messageId: 1, affectedSopClassUid: '1.2.840.10008.1.1', commandDataSetType: 0x0101 }],
    ['C-STORE-RQ', {
      commandField: 0x0001, messageId: 9, priority: 0, commandDataSetType: 0x0000,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3.4.5',
      moveOriginatorAeTitle: 'MOVER', moveOriginatorMessageId: 4,
    }],
    ['C-STORE-RSP', {
      commandField: 0x8001, messageIdBeingRespondedTo: 9, commandDataSetType: 0x0101, status: 0xa700,
      errorComment: 'Not stored', affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3.4.5',
    }],
  ];
  for (const [name, cmd] of commands) {
    it(`${name} round-trips`, () => {
      const bytes = encodeCommand(cmd);
      expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12); // (0000,0000) Command Group Length
      expect(bytes.length % 2).toBe(0);
      expect(decodeCommand(bytes)).toEqual(cmd);
    });
  }
  it('keeps Error Comment within LO: 64 characters, no backslash or control characters', () => {
    const v = errorCommentValue(`bad\\value\n${'x'.repeat(100)}`);
    expect(v.length).toBeLessThanOrEqual(64);
    expect(v).not.toMatch(/[\\\n]/);
  });
  it('rejects a truncated command set', () => {
    const bytes = encodeCommand(commands[0]![1]);
    expect(() => decodeCommand(bytes.subarray(0, bytes.length - 3))).toThrow(/overruns|truncated/);
  });
});
