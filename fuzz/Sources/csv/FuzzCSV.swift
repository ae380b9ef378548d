// Fuzz target: reading CSV back (cached datasets, errors.csv, summaries). The input is read as a CSV file by
// `CSVTable.read`; a table that reads has every field parsed as a number and every header column looked up.
import Foundation
import FuzzSupport
import Experiments

private let prepared: Void = FuzzInput.prepare()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = prepared
    guard let data else { return 0 }
    let table: CSVTable
    do {
        table = try CSVTable.read(from: FuzzInput.file(FuzzInput.bytes(data, size)))
    } catch let error as OutputError {
        _ = "\(error)"
        return 0
    } catch {
        fatalError("CSVTable.read threw \(type(of: error)), not an OutputError: \(error)")
    }
    for row in table.rows {
        check(row.count == table.header.count, "row of \(row.count) fields under a header of \(table.header.count)")
        for field in row { _ = CSV.number(field) }
    }
    for name in table.header { _ = try? table.column(name) }
    // Written back and read again, the table is the same.
    let again = try? CSV.parse(table.text)
    check(again == [table.header] + table.rows,
          "CSV round trip changed the table: \([table.header] + table.rows) was written as \(table.text.debugDescription)")
    return 0
}

@_cdecl("fuzz_csv_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzCSV)
}
