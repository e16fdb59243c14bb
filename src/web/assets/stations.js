// Loads the chosen CSV file into the form's text area (the form also works by pasting).
document.getElementById('csv-file').addEventListener('change', (event) => {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  file.text().then((text) => {
    document.getElementById('csv').value = text;
  });
});
