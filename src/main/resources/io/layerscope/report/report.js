// Sorts the layer table by a clicked heading; keeps the sort in the address (#sort=key:asc|desc).
(function () {
  'use strict';
  var table = document.getElementById('layer-table');
  if (!table) {
    return;
  }
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(body.rows);
  var collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

  function cellKey(row, col) {
    var cell = row.cells[col];
    var key = cell.getAttribute('data-sort');
    return key === null ? cell.textContent.trim() : key;
  }

  // Numbers compare numerically; text in natural order ("layers.9" before "layers.10").
  function compare(a, b, numeric) {
    if (numeric) {
      return Number(a) - Number(b);
    }
    return collator.compare(a, b);
  }

  function sortBy(key, descending) {
    var col = -1;
    heads.forEach(function (th, i) {
      if (th.getAttribute('data-key') === key) {
        col = i;
      }
    });
    if (col < 0) {
      return false;
    }
    var numeric = heads[col].getAttribute('data-type') === 'number';
    var keyed = rows.map(function (row, order) {
      return { row: row, key: cellKey(row, col), order: order };
    });
    keyed.sort(function (a, b) {
      var aMissing = a.key === '';
      var bMissing = b.key === '';
      if (aMissing !== bMissing) {
        return aMissing ? 1 : -1;   // missing values last, either direction
      }
      var c = aMissing ? 0 : compare(a.key, b.key, numeric);
      if (descending) {
        c = -c;
      }
      return c !== 0 ? c : a.order - b.order;   // ties keep model order
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) {
      fragment.appendChild(k.row);
    });
    body.appendChild(fragment);
    heads.forEach(function (th) {
      th.removeAttribute('aria-sort');
    });
    heads[col].setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    table.setAttribute('data-sorted-by', key + ':' + (descending ? 'desc' : 'asc'));
    return true;
  }

  heads.forEach(function (th) {
    var key = th.getAttribute('data-key');
    if (!key) {
      return;
    }
    var button = document.createElement('button');
    button.type = 'button';
    while (th.firstChild) {
      button.appendChild(th.firstChild);
    }
    th.appendChild(button);
    button.addEventListener('click', function () {
      var current = th.getAttribute('aria-sort');
      // First click: numbers largest first, text A to Z; then alternate.
      var descending = current === null ? th.getAttribute('data-type') === 'number' : current === 'ascending';
      sortBy(key, descending);
      try {
        history.replaceState(null, '', '#sort=' + key + ':' + (descending ? 'desc' : 'asc'));
      } catch (e) {
        // Some browsers refuse history changes on file:// pages; the sort itself still applies.
      }
    });
  });

  table.classList.add('sortable');
  var wanted = /^#sort=([A-Za-z0-9_]+)(?::(asc|desc))?$/.exec(window.location.hash);
  if (wanted) {
    sortBy(wanted[1], wanted[2] === 'desc');
  }
})();
