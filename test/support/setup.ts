// Real IndexedDB semantics in Node: every test runs the engine over fake-indexeddb.
import 'fake-indexeddb/auto';
