/**
 * The one script: progressive enhancement only. Copy buttons start hidden and appear when the clipboard can
 * be used; without JavaScript the handle stays selectable text.
 */
export const CLIENT_SCRIPT = `'use strict';
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  if (!target || !navigator.clipboard || !window.isSecureContext) return;
  var status = button.parentNode.querySelector('.copy-status');
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(
      function () { if (status) status.textContent = 'Copied'; },
      function () { if (status) status.textContent = 'Select the handle and copy it'; }
    );
  });
});
`;
