import RunbookCLI

await RunbookCommand.main()
