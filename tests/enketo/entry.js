// What the browser test loads (bundled by esbuild): Enketo's XForm transformer (its web build,
// which uses the browser's XSLTProcessor) and Enketo's form engine.
import { Form } from 'enketo-core';
import { transform } from 'enketo-transformer/web';

window.EnketoForm = Form;
window.enketoTransform = transform;
