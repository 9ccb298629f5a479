import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canBeAsked,
  missingCapability,
} from '../../../../src/supervisor/session/client-capabilities.js';

test('sampling and roots need their capability', () => {
  assert.equal(missingCapability({}, 'sampling/createMessage', {}), 'sampling');
  assert.equal(missingCapability({ sampling: {} }, 'sampling/createMessage', {}), undefined);
  assert.equal(missingCapability({ sampling: {} }, 'roots/list', {}), 'roots');
  assert.equal(missingCapability({ roots: { listChanged: true } }, 'roots/list', {}), undefined);
});

test('elicitation: {} means form mode (2025-06-18); url mode must be declared', () => {
  assert.equal(missingCapability({ elicitation: {} }, 'elicitation/create', {}), undefined);
  assert.equal(
    missingCapability({ elicitation: {} }, 'elicitation/create', { mode: 'url' }),
    'elicitation.url',
  );
  assert.equal(
    missingCapability({ elicitation: { url: {} } }, 'elicitation/create', { mode: 'form' }),
    'elicitation.form',
  );
  assert.equal(
    missingCapability({ elicitation: { form: {}, url: {} } }, 'elicitation/create', {
      mode: 'url',
    }),
    undefined,
  );
  assert.equal(missingCapability({}, 'elicitation/create', {}), 'elicitation');
});

test('a client can be asked when it declared any of the three', () => {
  assert.equal(canBeAsked({}), false);
  assert.equal(canBeAsked({ roots: {} }), true);
});
