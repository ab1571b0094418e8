// The header's menu collapses behind its button on narrow screens. Without this script the
// menu simply stays open (the page is served with it open): nothing depends on it.
(function () {
  var menu = document.querySelector('details.site-menu');
  if (!menu || !window.matchMedia) return;
  var narrow = window.matchMedia('(max-width: 47.99rem)');
  function fit() { menu.open = !narrow.matches; }
  fit();
  if (narrow.addEventListener) narrow.addEventListener('change', fit);
})();
